package migrate

// SetTestHook makes f be called at the named moments of every migration
// ("before-file", "after-file", "after-record"), so that a test can kill
// the process there.
func SetTestHook(f func(moment string)) { testHook = f }
