#!/bin/sh
# OpenMPI's remote-shell agent for the test hosts (OMPI_MCA_plm_rsh_agent):
#
#   netns_rsh.sh ADDRESS COMMAND...
#
# runs COMMAND on the test host with that address the way ssh would run it on a real node: in
# the host's network namespace, under the host's own hostname (a UTS namespace of its own), in
# a fresh environment (only what mpirun forwards reaches the ranks), through a shell that reads
# the words of COMMAND as one command line. STRATA_HOSTS_FILE lists the hosts, one per line:
# "ADDRESS NAMESPACE HOSTNAME". Any other address is refused: the agent reaches nothing else.
set -eu
address=$1
shift
line=$(awk -v a="$address" '$1 == a { print $2, $3 }' "$STRATA_HOSTS_FILE")
if [ -z "$line" ]; then
  echo "netns_rsh.sh: $address is not a test host (see $STRATA_HOSTS_FILE)" >&2
  exit 255
fi
namespace=${line% *}
name=${line#* }
exec ip netns exec "$namespace" unshare --uts -- \
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="${HOME:-/root}" \
  sh -c 'hostname "$1" && exec sh -c "$2"' netns_rsh "$name" "$*"
