#!/usr/bin/env bash
# bridge_remedy_apply: called at the end of a docker-real bridge recorder when DOCKER_REMEDY_DIR
# is set (test/docker-remedies.test.ts), while its lab still runs. It analyzes the files the
# recorder wrote, takes the remedy of the one ERROR naming each failing client
# (bridge-remedy-plan.js turns the printed lines into steps), applies it in the lab step by
# step and tries the client again, once, bounded in time.
# The recorder sets, before calling it ($out and $ctx are its capture and context):
#   REMEDY_NODE            the node (docker-lab.sh NAME) the remedy is applied on
#   REMEDY_CLIENTS         "NS=IP ..." the failing clients (NS: a lab namespace)
#   REMEDY_GOOD            "NS ..." clients that connected, tried again after the remedy
#   fetch_page NS SECONDS  one HTTP request to the published port; the answer on stdout
# Writes into DOCKER_REMEDY_DIR: capture.pcapng, context.json, analyzed.json; per failing client
# IP: before-IP.txt, steps-IP.tsv (bridge-remedy-plan.js), applied-IP.tsv (KIND, exit status,
# seconds, argument), step-IP-N.out (each step's output), before-restart-IP.txt (the client
# tried again just before the first dockerd restart), after-IP.txt; after-good-NS.txt;
# networks-after.txt (every bridge network's name, subnet and bridge once the remedy is in).
bridge_remedy_apply() {
  local dir=$DOCKER_REMEDY_DIR pair ns ip n kind arg line rc t0 argv daemon old new ctr id
  cp "$out" "$dir/capture.pcapng"
  cp "$ctx" "$dir/context.json"
  node "$LAB_REPO/bin/synscope.js" analyze "$dir/capture.pcapng" --context "$dir/context.json" --json >"$dir/analyzed.json"
  daemon="$(docker_lab_dir "$REMEDY_NODE")/etc/daemon.json"
  # Every failing client is tried before any remedy step, so one client's remedy cannot pass for another's.
  for pair in $REMEDY_CLIENTS; do
    fetch_page "${pair%%=*}" 4 >"$dir/before-${pair#*=}.txt" </dev/null || true
  done
  local applied_plans=()
  for pair in $REMEDY_CLIENTS; do
    ns=${pair%%=*} ip=${pair#*=}
    node "$LAB_DIR/bridge-remedy-plan.js" "$dir/analyzed.json" "$ip" >"$dir/steps-$ip.tsv"
    : >"$dir/applied-$ip.tsv"
    # Clients of one finding share its remedy: applied once, then each client is tried.
    if printf '%s\n' "${applied_plans[@]}" | grep -qxF "$(md5sum <"$dir/steps-$ip.tsv")"; then
      fetch_page "$ns" 4 >"$dir/after-$ip.txt" </dev/null || true
      continue
    fi
    applied_plans+=("$(md5sum <"$dir/steps-$ip.tsv")")
    n=0 new=""
    while IFS=$'\t' read -r kind arg line <&3; do
      n=$((n + 1))
      # Where the steps before a restart have got the client: e.g. a network moved, its published port with it.
      if [ "$kind" = restart ] && [ ! -e "$dir/before-restart-$ip.txt" ]; then
        fetch_page "$ns" 4 >"$dir/before-restart-$ip.txt" </dev/null || true
      fi
      t0=$(date +%s.%N)
      rc=0
      {
        case $kind in
          daemon-json)
            # What a person does in /etc/docker/daemon.json: the printed keys set, the others kept.
            node -e '
              const fs = require("fs"); const [file, snippet] = process.argv.slice(1);
              fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), ...JSON.parse(snippet) }, null, 2) + "\n");
            ' "$daemon" "$arg" && cat "$daemon" || rc=$?
            ;;
          restart)
            # Then what each container is doing: which came back by their restart policy.
            docker_restart "$REMEDY_NODE" && dk "$REMEDY_NODE" ps -a --format '{{.Names}} {{.Status}}' || rc=$?
            ;;
          docker)
            # `docker network create ... <new name>`: the name a person picks; the lab's is OLD2.
            if [[ $arg == *'<new name>'* ]]; then
              old=$(printf '%s' "$line" | sed -n 's/^Recreate the network \([^ ]*\) .*/\1/p')
              new=${old}2
              arg=${arg//<new name>/$new}
            fi
            read -ra argv <<<"${arg#docker }"
            echo "docker ${argv[*]}"
            dk "$REMEDY_NODE" "${argv[@]}" || rc=$?
            ;;
          move)
            # "move the containers to it": each container on the old network, connected to the new one, then disconnected from the old.
            for ctr in $(dk "$REMEDY_NODE" network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$arg"); do
              echo "docker network connect $new $ctr; docker network disconnect $arg $ctr"
              dk "$REMEDY_NODE" network connect "$new" "$ctr" && dk "$REMEDY_NODE" network disconnect "$arg" "$ctr" || rc=$?
            done
            ;;
          *) ;;
        esac
      } >"$dir/step-$ip-$n.out" 2>&1 </dev/null
      printf '%s\t%s\t%.1f\t%s\n' "$kind" "$rc" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$arg" >>"$dir/applied-$ip.tsv"
    done 3<"$dir/steps-$ip.tsv"
    # The page is served once the containers listen again (after a restart or a move); no traffic before.
    for ctr in $(dk "$REMEDY_NODE" ps -q); do docker_wait_listen "$REMEDY_NODE" "$ctr" 80 20 || true; done
    fetch_page "$ns" 4 >"$dir/after-$ip.txt" </dev/null || true
  done
  for id in $(dk "$REMEDY_NODE" network ls -q --filter driver=bridge </dev/null); do
    dk "$REMEDY_NODE" network inspect -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' "$id" </dev/null
  done >"$dir/networks-after.txt" 2>&1 || true
  for ns in $REMEDY_GOOD; do
    fetch_page "$ns" 4 >"$dir/after-good-$ns.txt" </dev/null || true
  done
}
