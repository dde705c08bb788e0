#!/usr/bin/env bash
# docker_remedy_apply: called at the end of a docker-real recorder when DOCKER_REMEDY_DIR is
# set (test/docker-swarm-remedies.test.ts), while its lab still runs. It analyzes the files the
# recorder wrote, takes the remedy of the one ERROR finding naming each failing client
# (remedy-steps.js), applies it in the lab step by step, and tries the client again.
# The recorder defines, before calling it:
#   REMEDY_NODE             the node (docker-lab.sh NAME) the remedy is applied on
#   REMEDY_CLIENTS          "NS=IP ..." the failing clients (NS: a lab namespace, or ctr:NAME)
#   REMEDY_GOOD             "NS ..." clients that connected, tried again after the remedy
#   fetch_page NS SECONDS   one HTTP request to the service; the answer on stdout
#   REMEDY_FILL             optional "NAME=VALUE ...": the lab's value for a placeholder the
#                           remedy asks the person to choose (SHIM_IP: an address free on the LAN)
#   remedy_hand WHAT        a hand step (remedy-steps.js `hand` kind, or `filtered` for a
#                           finding whose remedy is only a search), done with the scenario's
#                           own commands; prints what it did
# Writes into DOCKER_REMEDY_DIR: capture.pcapng, context.json, analyzed.json; per client IP:
# before-IP.txt, steps-IP.tsv, applied-IP.tsv (KIND, exit status, seconds, command),
# step-IP-N.out (each step's output), hand-IP.txt, after-IP.txt; after-good-NS.txt;
# gwbridge-after.txt (docker_gwbridge's subnet at the end, if the node has one).
docker_remedy_apply() {
  local dir=$DOCKER_REMEDY_DIR pair ns ip n kind cmd line rc t0 argv daemon
  cp "$out" "$dir/capture.pcapng"
  cp "$ctx" "$dir/context.json"
  node "$LAB_REPO/bin/synscope.js" analyze "$dir/capture.pcapng" --context "$dir/context.json" --json >"$dir/analyzed.json"
  for pair in $REMEDY_CLIENTS; do
    ns=${pair%%=*} ip=${pair#*=}
    fetch_page "$ns" 4 >"$dir/before-$ip.txt" </dev/null || true
    node "$LAB_DIR/remedy-steps.js" "$dir/analyzed.json" "$ip" >"$dir/steps-$ip.tsv"
    : >"$dir/applied-$ip.tsv"
    : >"$dir/hand-$ip.txt"
    n=0
    while IFS=$'\t' read -r kind cmd line <&3; do
      n=$((n + 1))
      t0=$(date +%s.%N)
      rc=0
      case $kind in
        docker)
          read -ra argv <<<"${cmd#docker }"
          dk "$REMEDY_NODE" "${argv[@]}" >"$dir/step-$ip-$n.out" 2>&1 </dev/null || rc=$?
          # As the step's note says: an endpoint still going away, the step again (30 s at most).
          local until=$((SECONDS + 30))
          while [ "$rc" != 0 ] && grep -q 'has active endpoints' "$dir/step-$ip-$n.out" && [ $SECONDS -lt $until ]; do
            sleep 0.5
            rc=0
            dk "$REMEDY_NODE" "${argv[@]}" >"$dir/step-$ip-$n.out" 2>&1 </dev/null || rc=$?
          done
          ;;
        host)
          # A value the remedy asks the person to choose (SHIM_IP), the lab's choice: REMEDY_FILL="NAME=VALUE ...".
          local fill
          for fill in ${REMEDY_FILL:-}; do cmd=${cmd//${fill%%=*}/${fill#*=}}; done
          read -ra argv <<<"$cmd"
          if command -v "${argv[0]}" >/dev/null; then
            lab_in "$REMEDY_NODE" "${argv[@]}" >"$dir/step-$ip-$n.out" 2>&1 </dev/null || rc=$?
          else
            echo "${argv[0]}: not installed on this machine" >"$dir/step-$ip-$n.out"
            rc=127
          fi
          ;;
        ufw)
          read -ra argv <<<"${cmd#ufw }"
          lab_ufw "$REMEDY_NODE" "${argv[@]}" >"$dir/step-$ip-$n.out" 2>&1 </dev/null || rc=$?
          ;;
        ctr)
          docker_in_ctr "$REMEDY_NODE" "${cmd%% *}" bash -c "${cmd#* }" >"$dir/step-$ip-$n.out" 2>&1 </dev/null || rc=$?
          ;;
        hand)
          remedy_hand "$cmd" >"$dir/step-$ip-$n.out" 2>&1 </dev/null || rc=$?
          printf '%s: %s\n' "$line" "$(tr '\n' ' ' <"$dir/step-$ip-$n.out")" >>"$dir/hand-$ip.txt"
          ;;
        global)
          echo "not applied: a setting of the whole machine, which no network namespace may change" >"$dir/step-$ip-$n.out"
          ;;
        config)
          # Merged into the node's daemon.json: it takes effect when dockerd restarts (not done here).
          daemon="$(docker_lab_dir "$REMEDY_NODE")/etc/daemon.json"
          node -e '
            const fs = require("fs"); const [file, snippet] = process.argv.slice(1);
            const merged = { ...JSON.parse(fs.readFileSync(file, "utf8")), ...JSON.parse(snippet) };
            fs.writeFileSync(file, JSON.stringify(merged, null, 2) + "\n"); console.log(JSON.stringify(JSON.parse(snippet)));
          ' "$daemon" "$cmd" >"$dir/step-$ip-$n.out" 2>&1 </dev/null || rc=$?
          ;;
        *)
          : >"$dir/step-$ip-$n.out"
          ;;
      esac
      printf '%s\t%s\t%.1f\t%s\n' "$kind" "$rc" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$cmd" >>"$dir/applied-$ip.tsv"
    done 3<"$dir/steps-$ip.tsv"
    # A finding whose remedy only says where to look (filtered): the person's part. A remedy
    # that fixes by itself runs docker, a hand step, a ufw rule, a rule deleted, flushed or inserted (iptables or nft), a link, address or route added, or a sysctl set.
    if ! grep -q $'^\(docker\|hand\|ufw\)\t' "$dir/steps-$ip.tsv" && ! grep -q $'^host\t\(sysctl -w \|nft \(insert\|add\|delete\) \|ip \(link\|addr\|route\) add \|ip \(-6 \)\{0,1\}\(route\|rule\) del \|[^\t]*-[DFI] \)' "$dir/steps-$ip.tsv"; then
      n=$((n + 1))
      rc=0
      remedy_hand filtered >"$dir/step-$ip-$n.out" 2>&1 </dev/null || rc=$?
      printf 'hand\t%s\t0\t%s\n' "$rc" "the rule the listings show, removed by a person" >>"$dir/applied-$ip.tsv"
      printf 'filtered (the listings above show the rule): %s\n' "$(tr '\n' ' ' <"$dir/step-$ip-$n.out")" >>"$dir/hand-$ip.txt"
    fi
    fetch_page "$ns" 4 >"$dir/after-$ip.txt" </dev/null || true
  done
  # What the node's docker_gwbridge is now (the subnet a recreate put it on), when it has one.
  dk "$REMEDY_NODE" network inspect docker_gwbridge -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' >"$dir/gwbridge-after.txt" 2>/dev/null </dev/null || true
  for ns in $REMEDY_GOOD; do
    fetch_page "$ns" 4 >"$dir/after-good-$ns.txt" </dev/null || true
  done
}
