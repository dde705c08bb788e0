#!/usr/bin/env bash
# Scenario docker-real-docker-user-drop (a published port behind an operator's DOCKER-USER
# rule, on a real Docker engine): a real dockerd (docker.io 20.10, contained in the lab's
# "host" namespace by docker-lab.sh) runs a busybox httpd container `web` published with
# `docker run -p 8080:80 -p 8081:80`, so docker0 172.17.0.1/16, the container 172.17.0.2,
# Docker's DNAT (DOCKER chain), its FORWARD chains, DOCKER-USER and docker-proxy are
# Docker's own.
# The operator inserted one rule in the node's namespace:
# `iptables -I DOCKER-USER -s 198.51.100.20 -p tcp --dport 80 -j DROP`. The client
# 198.51.100.20 (a remote network reached on-link over the uplink) sends SYNs to
# 192.0.2.1:8080: the host DNATs them to 172.17.0.2:80 and DOCKER-USER drops them in
# FORWARD, so they are seen on eth0 and never on docker0. The clients 192.0.2.10 and
# 198.51.100.21 connect. A second container `cli` (172.17.0.3, on docker0 itself) fetches
# the page through the host's other published port 192.0.2.1:8081 (answered: the host
# reaches it and completes the handshakes) and dials 192.0.2.1:8080, which a second
# operator rule drops in the host's INPUT (`iptables -I INPUT -s 172.17.0.3 -p tcp --dport
# 8080 -j DROP`; from docker0 the published port is served by docker-proxy, not DNAT): a
# client inside docker0's subnet whose silence is a firewall drop, not an overlap.
# Captured with synscope live --write on eth0 and docker0 in the host namespace; the host
# context is read there with --docker-socket at the node's socket (the Engine API's networks);
# with DOCKER_LIVE_JSON=FILE the live run's report JSON is kept there (docker-real-helpers.sh).
# Real Docker: dockerd, docker0, the container, Docker's nat/filter chains and docker-proxy are docker.io 20.10's own; nothing is stood in for (only the two operator rules are added by hand).
# Usage: record-docker-real-docker-user-drop.sh OUT.pcapng CONTEXT.json   (root; about 30 s)
#
# Verdict: one `nat-path-break` error for 192.0.2.1:8080 naming only 198.51.100.20: its
# SYNs reached eth0 and never docker0, where the other attempts went (DNAT to
# 172.17.0.2:80); from the context's iptables the finding names the DOCKER-USER rule that
# drops it, and its remedy deletes that rule. One `filtered` error for 192.0.2.1:8080
# naming only 172.17.0.3 (seen on docker0 only, nothing came back), with the INPUT rule
# that drops it (the SYN is addressed to the host: docker-proxy serves it there). No
# `bridge-subnet-overlap` anywhere: 172.17.0.3 is inside docker0's subnet but it is a
# container on docker0 (its attempts are seen only there, and it completes
# handshakes with the host on 8081), and 198.51.100.20 is in no bridge's subnet.
# Remedies applied in this lab by test/docker-swarm-remedies.test.ts: nat-path-break's
# `iptables -D DOCKER-USER -s 198.51.100.20/32 -p tcp -m tcp --dport 80 -j DROP`, run as
# printed, and 198.51.100.20 gets the page. filtered's `iptables -L INPUT -v -n --line-numbers`
# shows the DROP rule for 172.17.0.3 counting, and its `iptables -D INPUT -s 172.17.0.3/32 ...`
# deletes it, run as printed: then 172.17.0.3 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns remote; lab_ns remote2
lab_lan host good remote remote2

lab_in host ip addr add 192.0.2.1/24 dev eth0
# The remote network is reached on-link over the same LAN.
lab_in host ip route add 198.51.100.0/24 dev eth0
docker_node host
docker_lab_image host
dk host run -d --name web -p 8080:80 -p 8081:80 "$DOCKER_LAB_IMAGE" >/dev/null
dk host run -d --name cli "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
docker_wait_listen host web 80
lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
lab_wait "docker-proxy on tcp/8081 in the node" 20 lab_listening host 8081

# The operator's rules.
lab_in host iptables -I DOCKER-USER -s 198.51.100.20 -p tcp --dport 80 -j DROP
lab_in host iptables -I INPUT -s 172.17.0.3 -p tcp --dport 8080 -j DROP
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' cli)" = 172.17.0.3 ] || { echo "cli is not 172.17.0.3" >&2; exit 1; }

lab_in good ip addr add 192.0.2.10/24 dev eth0
for ns in remote:198.51.100.20 remote2:198.51.100.21; do
  lab_in "${ns%%:*}" ip addr add "${ns#*:}/24" dev eth0
  lab_in "${ns%%:*}" ip route add 192.0.2.0/24 dev eth0
done

fetch() { lab_fetch "$@"; }

docker_live host "$out" 30 -i eth0 -i docker0
fetch good 192.0.2.1 8080 2 >/dev/null
fetch ctr:cli 192.0.2.1 8081 10 >/dev/null
# The failing attempts end the traffic: the good connections are over long before they time
# out, and the capture stops after the failure has run its course.
fetch remote 192.0.2.1 8080 3.5 >/dev/null &
bad=$!
fetch ctr:cli 192.0.2.1 8080 3.5 >/dev/null &
badctr=$!
fetch remote2 192.0.2.1 8080 10 >/dev/null
fetch ctr:cli 192.0.2.1 8081 10 >/dev/null
fetch good 192.0.2.1 8080 2 >/dev/null
fetch remote2 192.0.2.1 8080 10 >/dev/null
wait "$bad" "$badctr" || true
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { fetch "$1" 192.0.2.1 8080 "$2"; }
  docker_remedies host "remote=198.51.100.20 ctr:cli=172.17.0.3" "good remote2"
fi
