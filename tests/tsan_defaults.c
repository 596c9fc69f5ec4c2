/*
 * tsan_defaults.c - ThreadSanitizer settings built into every program of a
 * -DDM_TSAN build (as lsan_defaults.c does for -DDM_SANITIZE), so the tests
 * and the tools run under it as they are: a report makes the program exit
 * with status 66, which fails the test that ran it. Suppressions are for
 * reports inside third-party libraries that we cannot fix; our own races
 * must stay visible.
 */
const char *__tsan_default_options(void);
const char *__tsan_default_suppressions(void);

const char *__tsan_default_options(void)
{
    return "exitcode=66 second_deadlock_stack=1 history_size=4";
}

const char *__tsan_default_suppressions(void)
{
    /*
     * FcCharSetDestroy (renderer/compose/text.c, dm_text_free at exit)
     * unlocks a fontconfig cache lock that fontconfig took in a way TSan did
     * not see; Debian's fontconfig has no frame pointers, so the report's
     * stack shows only its caller, which is what has to be named.
     */
    return "mutex:dm_text_free\n"
           "called_from_lib:libfontconfig.so\n"
           "called_from_lib:libavcodec.so\n"      /* FFmpeg's frame threads synchronise with atomics TSan */
           "called_from_lib:libavutil.so\n"      /* does not model (its own documentation says so) */
           /*
            * The AV1 decoders libavcodec hands AV1 to: their worker threads
            * pass tiles and frame progress with C11 atomics in code built
            * without TSan, so TSan sees their memcpy calls as racing (CI
            * saw it in test_media's AV1 film, two dav1d-worker threads).
            */
           "called_from_lib:libdav1d.so\n"
           "called_from_lib:libaom.so\n";
}
