/*
 * lsan_defaults.c - LeakSanitizer settings built into every program of a
 * -DDM_SANITIZE build, so the sanitizer build of the tools runs as it is
 * (no LSAN_OPTIONS needed): suppressions for allocations third-party
 * libraries make for themselves and never free. Name only third-party
 * libraries here; our own leaks must stay visible.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n"   /* FcInit keeps 288 bytes unreachable */
           "leak:libdbus-1.so\n"       /* D-Bus and Mesa's LLVM keep allocations for the */
           "leak:libLLVM\n";           /* life of the process once a window opened under X */
}

const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
