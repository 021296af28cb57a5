"""The harness reads etc/containerpilot.json5 as ContainerPilot 3 would."""

from __future__ import annotations

import pytest

from containerpilot import (ConfigError, TemplateError, load_config, parse_config, parse_duration,
                            render_template)
from harness import DEFAULT_CONFIG

NODE_ENV = {
    "REDIS_CONF": "/tmp/n1/etc/redis.conf",
    "SENTINEL_CONF": "/tmp/n1/etc/sentinel.conf",
    "SENTINEL_PORT": "26400",
    "LOG_LEVEL": "DEBUG",
    "CONTAINERPILOT_LOG_LEVEL": "WARN",
    "CONSUL_HTTP_ADDR": "http://127.0.0.1:8600",
    "CONSUL_DATA_DIR": "/tmp/n1/consul",
    "BACKUP_CHECK_INTERVAL": "15m",
}


def test_the_project_config_gives_the_jobs_and_timings_of_a_node() -> None:
    config = load_config(DEFAULT_CONFIG, NODE_ENV)
    assert [job.name for job in config.jobs] == [
        "preStart", "consul-agent", "onStart", "redis", "redis-sentinel", "preStop", "sentinel-hold",
        "consul-agent-hold", "backup"]
    # ContainerPilot's own level is its own; redis-manage's jobs log raw.
    assert config.log_level == "WARN"
    assert config.consul == "http://127.0.0.1:8600"
    assert config.stop_timeout == 5
    assert all(job.raw_log for job in config.jobs if job.exec and job.exec[0] in ("redis-manage", "redis-sentinel"))
    # A job's stopTimeout does nothing in ContainerPilot 3.8.0: none is set, so none misleads.
    assert [job.name for job in config.jobs if job.stop_timeout is not None] == []

    pre_start = config.job("preStart")
    assert pre_start.exec == ("redis-manage", "preStart")
    assert pre_start.when.source is None and not pre_start.when.is_periodic
    assert pre_start.restarts == 0

    agent = config.job("consul-agent")
    assert "-retry-join" in agent.exec and agent.exec[agent.exec.index("-retry-join") + 1] == "consul"
    assert "-data-dir=/tmp/n1/consul" in agent.exec
    assert (agent.when.source, agent.when.once) == ("preStart", "exitSuccess")

    on_start = config.job("onStart")
    assert (on_start.when.source, on_start.when.once) == ("consul-agent", "healthy")

    # Every start of redis-server goes through startRedis, restarts included.
    redis = config.job("redis")
    assert redis.exec == ("redis-manage", "startRedis")
    assert redis.restarts_unlimited and redis.port is None
    assert redis.health is not None and redis.health.raw_log
    assert (redis.health.exec, redis.health.interval, redis.health.ttl, redis.health.timeout) == (
        ("redis-manage", "health"), 5.0, 25.0, 4.0)

    # healthSentinel registers redis-sentinel at the announced address: no port here.
    sentinel = config.job("redis-sentinel")
    assert sentinel.exec == ("redis-sentinel", "/tmp/n1/etc/sentinel.conf")
    assert sentinel.port is None
    assert sentinel.health is not None and sentinel.health.exec == ("redis-manage", "healthSentinel")
    assert sentinel.health.timeout == 4.0

    # HookBudget (Sources/RedisAutopilot/Lifecycle/HookBudget.swift): health 3 s, preStop
    # 38 s, awaitPreStop 40 s, each inside its job's timeout here.
    pre_stop = config.job("preStop")
    assert (pre_stop.when.source, pre_stop.when.once, pre_stop.timeout) == ("redis", "stopping", 40.0)

    # Sentinel and the agent are held (ContainerPilot waits for the job on their
    # stopping event) while preStop still needs them.
    for held, holder in (("redis-sentinel", "sentinel-hold"), ("consul-agent", "consul-agent-hold")):
        hold = config.job(holder)
        assert hold.exec == ("redis-manage", "awaitPreStop")
        assert (hold.when.source, hold.when.once) == (held, "stopping")
        assert hold.timeout == 42.0 and pre_stop.timeout < hold.timeout

    # A periodic job is killed at its interval: the backup bounds itself inside it.
    backup = config.job("backup")
    assert backup.when.interval == 900.0 and backup.timeout == 900.0
    assert backup.restarts_unlimited  # a periodic job reruns unless told otherwise


def test_defaults_apply_when_the_environment_is_empty() -> None:
    config = load_config(DEFAULT_CONFIG, {})
    assert config.job("redis").exec == ("redis-manage", "startRedis")
    # The default redis-manage's CONSUL_DATA_DIR has too.
    assert "-data-dir=/data/consul" in config.job("consul-agent").exec
    assert config.job("redis-sentinel").exec == ("redis-sentinel", "/etc/redis/sentinel.conf")
    assert config.log_level == "INFO"
    assert config.consul == "localhost:8500"
    assert config.job("backup").when.interval == 600.0


def test_render_substitutes_variables_and_defaults() -> None:
    env = {"A": "1", "EMPTY": ""}
    assert render_template('x{{ .A }}y{{.B}}z', env) == "x1yz"
    assert render_template('{{ .EMPTY | default "d" }}/{{ .A | default "d" }}', env) == "d/1"
    assert render_template('{{ .B | default "a \\"q\\"" }}', env) == 'a "q"'
    assert render_template("{{ .B | default `raw` }}", env) == "raw"


def test_render_cuts_values_at_an_equals_sign_as_containerpilot_does() -> None:
    assert render_template("{{ .V }}", {"V": "a=b"}) == "a"


@pytest.mark.parametrize("text", [
    "{{ env \"A\" }}",
    "{{ .A | split \",\" }}",
    "{{- .A }}",
    "{{ .A -}}",
    "{{ if .A }}x{{ end }}",
    "{{ .A | default }}",
    "{{ .A | default \"unterminated }}",
    "{{/* comment */}}",
    "{{ .A",
])
def test_render_rejects_unsupported_syntax(text: str) -> None:
    with pytest.raises(TemplateError):
        render_template("{\n" + text + "\n}", {"A": "1"})


def test_template_errors_name_the_line() -> None:
    with pytest.raises(TemplateError, match="line 3"):
        render_template("a\nb\n{{ range .X }}", {})


@pytest.mark.parametrize("value,seconds", [
    (5, 5.0), ("5", 5.0), ("5s", 5.0), ("500ms", 0.5), ("10m", 600.0), ("1h", 3600.0),
    ("1m30s", 90.0), ("1.5s", 1.5)])
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value, "t") == seconds


@pytest.mark.parametrize("value", ["", "5 s", "s", "5x", "-1s", True, None, [5], -3])
def test_bad_durations_are_errors(value: object) -> None:
    with pytest.raises(ConfigError):
        parse_duration(value, "t")


@pytest.mark.parametrize("job,message", [
    ('{name: "a", exec: "x", when: {interval: "1s", once: "startup"}}', "only one of"),
    ('{name: "a", exec: "x", when: {source: "a", once: "bogus"}}', "unknown event"),
    ('{name: "a", exec: "x", when: {source: "nope", once: "exitSuccess"}}', "no job named"),
    ('{name: "a", exec: "x", when: {source: "a", each: "healthy"}, restarts: "unlimited"}', "each"),
    ('{name: "a", exec: "x", restarts: "sometimes"}', "restarts"),
    ('{name: "a", exec: "x", port: 80}', "health must be set"),
    ('{name: "a", exec: "x", port: 80, health: {exec: "y", interval: 0, ttl: 1}}', "interval"),
    ('{name: "a", exec: "x", health: {exec: "y", interval: 1, ttl: "5s"}}', "ttl"),
    ('{name: "a", exec: []}', "empty command"),
    ('{name: "a", exec: [1]}', "array of strings"),
    ('{exec: "x"}, {exec: "x"}', "duplicate"),
])
def test_invalid_jobs_are_errors(job: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config("{jobs: [" + job + "]}", {})


def test_not_json5_after_rendering_is_an_error() -> None:
    with pytest.raises(ConfigError, match="JSON5"):
        parse_config("{jobs: [ {name: {{ .X }} } ]}", {})


def test_string_exec_is_split_on_whitespace_and_names_the_job() -> None:
    config = parse_config('{jobs: [{exec: "redis-server  /etc/r.conf"}]}', {})
    assert config.jobs[0].name == "redis-server"
    assert config.jobs[0].exec == ("redis-server", "/etc/r.conf")
