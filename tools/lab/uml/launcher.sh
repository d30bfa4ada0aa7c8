# Sourced by the scripts that boot user-mode-linux: run linux.uml as
#   ${uml_launcher[@]} linux.uml ... ${uml_env[@]}
# On CPUs with AMX, user-mode-linux 6.1 cannot set its processes' FPU state through ptrace's XSTATE
# regset (the host wants the whole, larger XSAVE area) and its init dies at once; xstate-off makes
# UML fall back to the FPREGS regset, which carries only the x87/SSE state. glibc in the guest must
# then not use the AVX registers either (its AVX-512 string functions were seen to return garbage,
# `ip` printing "%s"): GLIBC_TUNABLES, a kernel command-line word that reaches init's environment.
uml_launcher=()
uml_env=()
if grep -qw amx_tile /proc/cpuinfo 2>/dev/null; then
    uml_launcher=("$(dirname "${BASH_SOURCE[0]}")/xstate-off")
    uml_env=("GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX2,-AVX")
fi
