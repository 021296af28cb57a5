"""The chaos scenarios' network bed (netns.py) on its own: a few seconds, so it runs in
`make test` too (as root; without root it skips, or fails under CHAOS_REQUIRE_NETNS=1)."""

from __future__ import annotations

import socket
import subprocess
import threading

import pytest

import netns


def listen(bed: netns.NetworkBed, node: str, port: int) -> subprocess.Popen:
    """A TCP server inside the node's namespace that answers every connection with `ok`."""
    address = bed.place(node).address
    program = ("import socket\n"
               f"s = socket.create_server(('{address}', {port}))\n"
               "print('listening', flush=True)\n"
               "while True:\n"
               "    c, _ = s.accept(); c.sendall(b'ok'); c.close()\n")
    server = subprocess.Popen([*bed.exec_prefix(node), "python3", "-c", program], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "listening"
    return server


def reaches(connect: netns.Connector, address: str, port: int) -> bool:
    try:
        with connect((address, port), 1.0) as sock:
            return sock.recv(2) == b"ok"
    except OSError:
        return False


def test_each_node_has_its_address_and_isolation_spares_only_its_agent(network_bed) -> None:
    one, two = network_bed.add_node("node1"), network_bed.add_node("node2")
    assert (one.address, two.address) == ("10.213.0.11", "10.213.0.12")
    server = listen(network_bed, "node1", 6379)
    agent = socket.create_server((netns.GATEWAY, 0))
    agent_port = agent.getsockname()[1]

    def answer() -> None:
        """Plays the node's Consul agent on the bridge: `ok` to every connection until closed."""
        while True:
            try:
                connection, _ = agent.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"ok")

    threading.Thread(target=answer, daemon=True).start()
    try:
        assert reaches(netns.root_connect, one.address, 6379)
        assert reaches(network_bed.connector("node2"), one.address, 6379)
        assert reaches(network_bed.connector("node1"), netns.GATEWAY, agent_port)

        network_bed.isolate("node1", agent_port)
        assert not reaches(netns.root_connect, one.address, 6379)
        assert not reaches(network_bed.connector("node2"), one.address, 6379)
        assert reaches(network_bed.connector("node1"), one.address, 6379), "a node still reaches itself"
        assert reaches(network_bed.connector("node1"), netns.GATEWAY, agent_port), "and its own agent"

        network_bed.unblock("node1")
        assert reaches(network_bed.connector("node2"), one.address, 6379)
        assert network_bed.processes() == [server.pid]
    finally:
        agent.close()
    network_bed.teardown()
    assert server.wait(5) == -9, "teardown kills what runs inside the namespaces"
    assert not network_bed.leftovers()


def test_without_root_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert netns.unavailable() == "network namespaces need root (CAP_NET_ADMIN); run as root"


def test_the_reserved_subnet_in_use_is_refused(network_bed) -> None:
    with pytest.raises(netns.NetworkError, match=f"chaos subnet {netns.SUBNET} is already on {network_bed.bridge}"):
        netns.NetworkBed.create()
