# Sourced by tools/lab/uml/run and tools/lab/qemu/run.
# lab_hostdirs PATH...: the host directories right under /tmp or /run that the paths lie in, comma
# separated. A lab guest mounts empty /tmp and /run of its own, then these host directories again at
# the same places, so that a repository cloned into /tmp works in the labs too.
lab_hostdirs() {
    local p top dirs=()
    for p in "$@"; do
        case $p in /tmp/?* | /run/?*) ;; *) continue ;; esac
        top=$(cut -d/ -f1-3 <<<"$p")
        [[ " ${dirs[*]} " == *" $top "* ]] || dirs+=("$top")
    done
    (IFS=,; echo "${dirs[*]}")
}
