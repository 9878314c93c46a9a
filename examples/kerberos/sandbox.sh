#!/usr/bin/env bash
# A throwaway Kerberos realm for trying examples/kerberos without a KDC of your own: creates
# EXAMPLE.TEST in a temporary directory (database, krb5.conf, a krb5kdc on a free loopback
# port), adds hz/127.0.0.1 and client1 with random keys, writes hz.keytab and client1.keytab
# next to this script, and prints the environment to export. Stop it with `kill <pid>` (printed)
# and remove the directory.
# Needs Debian's krb5-kdc, krb5-admin-server and krb5-user (./scripts/test installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for b in kdb5_util kadmin.local krb5kdc; do
    command -v "$b" >/dev/null || PATH="$PATH:/usr/sbin"
    command -v "$b" >/dev/null || { echo "$b is missing: apt-get install krb5-kdc krb5-admin-server krb5-user" >&2; exit 2; }
done
dir="$(mktemp -d /tmp/realm-example-kdc.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$dir/krb5.conf" <<CONF
[libdefaults]
    default_realm = EXAMPLE.TEST
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 1
[realms]
    EXAMPLE.TEST = {
        kdc = 127.0.0.1:$port
    }
CONF
cat > "$dir/kdc.conf" <<CONF
[kdcdefaults]
    kdc_listen = 127.0.0.1:$port
    kdc_tcp_listen = 127.0.0.1:$port
[realms]
    EXAMPLE.TEST = {
        database_name = $dir/principal
        key_stash_file = $dir/stash
        acl_file = $dir/kadm5.acl
        supported_enctypes = aes256-cts-hmac-sha1-96:normal
    }
[logging]
    kdc = FILE:$dir/kdc.log
CONF
: > "$dir/kadm5.acl"
export KRB5_CONFIG="$dir/krb5.conf" KRB5_KDC_PROFILE="$dir/kdc.conf"
kdb5_util -r EXAMPLE.TEST create -s -P "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >/dev/null
kadmin.local -q "addprinc -randkey hz/127.0.0.1" >/dev/null 2>&1
kadmin.local -q "addprinc -randkey client1" >/dev/null 2>&1
rm -f "$here/hz.keytab" "$here/client1.keytab"
kadmin.local -q "ktadd -k $here/hz.keytab hz/127.0.0.1" >/dev/null
kadmin.local -q "ktadd -k $here/client1.keytab client1" >/dev/null
chmod 600 "$here/hz.keytab" "$here/client1.keytab"
krb5kdc -n -r EXAMPLE.TEST >"$dir/krb5kdc.out" 2>&1 &
pid=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
echo "krb5kdc (pid $pid) serves EXAMPLE.TEST on 127.0.0.1:$port; keytabs written to $here"
echo "export KRB5_CONFIG=$dir/krb5.conf KRB5RCACHEDIR=$dir"
echo "# when done: kill $pid; rm -rf $dir"
