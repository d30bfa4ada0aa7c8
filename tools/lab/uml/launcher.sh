# Sourced by the scripts that boot user-mode-linux: run linux.uml as
#   ${uml_launcher[@]} linux.uml ... ${uml_env[@]}
# On CPUs with AMX, user-mode-linux 6.1 cannot set its processes' FPU state through ptrace (its
# XSTATE buffer is smaller than the host kernel requires) and its init dies at once: xstate-shim.c,
# preloaded, hands the kernel the whole area (see there). glibc in the guest stays off AVX-512,
# whose state the shim cannot keep apart for threads that share one traced process.
# Needs gcc (tools/setup); the library is built once into .lab/ and rebuilt when the source changes.
uml_launcher=()
uml_env=()
if grep -qw amx_tile /proc/cpuinfo 2>/dev/null; then
    _uml_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
    _uml_lib=$_uml_here/../../../.lab/uml-shim/xstate-shim.so
    if [ ! -f "$_uml_lib" ] || [ "$_uml_here/xstate-shim.c" -nt "$_uml_lib" ]; then
        mkdir -p "$(dirname "$_uml_lib")"
        gcc -O2 -shared -fPIC -o "$_uml_lib.new" "$_uml_here/xstate-shim.c" -ldl && mv "$_uml_lib.new" "$_uml_lib" \
            || { echo "lab: cannot build $_uml_here/xstate-shim.c (gcc missing? run tools/setup)" >&2; return 1; }
    fi
    uml_launcher=(env "LD_PRELOAD=$(realpath "$_uml_lib")")
    uml_env=("GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD")
fi
