#!/bin/sh
# Writes _env for the Triton example: where Consul is (Triton CNS), the Manta credentials
# the backups use, and a new random REDIS_PASSWORD that every node shares. Needs the `triton`
# CLI with a working profile and ssh-keygen.
#
#   ./setup.sh [-k PRIVATE_KEY] [-o OUTPUT] [-f]
#
#   -k  the RSA key registered with your Triton account (default ~/.ssh/id_rsa)
#   -o  the file to write (default _env beside this script)
#   -f  overwrite an existing file
#
# MANTA_URL and MANTA_BUCKET are taken from the environment when set.
set -eu

key="${HOME}/.ssh/id_rsa"
output="$(dirname "$0")/_env"
force=false

fail() {
    echo "setup.sh: $*" >&2
    exit 1
}

while getopts "k:o:fh" option; do
    case "$option" in
        k) key="$OPTARG" ;;
        o) output="$OPTARG" ;;
        f) force=true ;;
        h) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) fail "usage: $0 [-k PRIVATE_KEY] [-o OUTPUT] [-f]" ;;
    esac
done

for tool in triton ssh-keygen; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not on PATH (triton: npm install -g triton; ssh-keygen: OpenSSH)"
done
[ -r "$key" ] || fail "cannot read the private key $key (choose another with -k)"
if [ -e "$output" ] && [ "$force" != true ]; then
    fail "$output exists: remove it or pass -f"
fi

profile="$(triton profile get)" || fail "\`triton profile get\` failed: set up a profile first"
account="$(triton account get)" || fail "\`triton account get\` failed"
account_id="$(printf '%s\n' "$account" | awk -F': *' '$1 == "id" { print $2; exit }')"
login="$(printf '%s\n' "$account" | awk -F': *' '$1 == "login" { print $2; exit }')"
# url: https://us-east-1.api.joyent.com -> us-east-1
datacenter="$(printf '%s\n' "$profile" | awk -F'/' '/^url:/ { split($3, host, "."); print host[1]; exit }')"
[ -n "$account_id" ] && [ -n "$login" ] && [ -n "$datacenter" ] ||
    fail "could not read the account id, login and data center from the triton CLI"

# "2048 MD5:aa:bb:... comment (RSA)": Manta wants the MD5 fingerprint, without "MD5:".
fingerprint="$(ssh-keygen -E md5 -l -f "$key" | awk '{ print $2 }')" ||
    fail "ssh-keygen cannot read $key"
key_id="${fingerprint#MD5:}"
case "$key_id" in
    ??:??:??:??:??:??:??:??:??:??:??:??:??:??:??:??) ;;
    *) fail "ssh-keygen gave no MD5 fingerprint for $key" ;;
esac

# 24 random bytes, hex: no character that an env file or redis.conf would need quoted.
password="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
[ "${#password}" -eq 48 ] || fail "could not read 24 random bytes from /dev/urandom"

# The key holds secrets: the file is readable by its owner only, from the start.
umask 077
partial="$output.partial.$$"
trap 'rm -f "$partial"' EXIT
{
    echo "CONSUL=consul.svc.${account_id}.${datacenter}.cns.joyent.com"
    echo "MANTA_URL=${MANTA_URL:-https://us-east.manta.joyent.com}"
    echo "MANTA_USER=${login}"
    echo "MANTA_KEY_ID=${key_id}"
    echo "MANTA_BUCKET=${MANTA_BUCKET:-/${login}/stor/triton-redis}"
    # An env file holds one line per variable: the key's newlines become '#'.
    printf 'MANTA_PRIVATE_KEY=%s\n' "$(tr '\n' '#' < "$key")"
    printf 'REDIS_PASSWORD=%s\n' "$password"
} > "$partial"
mv "$partial" "$output"
trap - EXIT
echo "wrote $output (Consul at consul.svc.${account_id}.${datacenter}.cns.joyent.com, Manta user ${login}, key ${key_id}, a new REDIS_PASSWORD)"
