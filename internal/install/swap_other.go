//go:build !linux

package install

// exchange swaps the directories a and b with two renames; b is missing
// for a moment in between. Linux does it in one step.
func exchange(a, b string) error { return swapByRenames(a, b) }

// renameNoReplace renames a to b, failing if b exists.
func renameNoReplace(a, b string) error { return renameIfAbsent(a, b) }
