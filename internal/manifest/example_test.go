package manifest_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/relkit/relkit/internal/manifest"
)

// Verify reports every file that differs from what was built.
func ExampleManifest_Verify() {
	root, _ := os.MkdirTemp("", "release")
	defer os.RemoveAll(root)
	os.MkdirAll(filepath.Join(root, "releases", "1.0.0"), 0o755)
	os.WriteFile(filepath.Join(root, "releases", "1.0.0", "app"), []byte("binary"), 0o755)

	files, _ := manifest.Scan(root)
	m := &manifest.Manifest{Name: "app", Version: "1.0.0", Files: files}

	fmt.Println("fresh:", m.Verify(root))
	os.WriteFile(filepath.Join(root, "releases", "1.0.0", "app"), []byte("BINARY"), 0o755)
	err := m.Verify(root)
	fmt.Println("tampered:", err.(*manifest.VerifyError).Problems[0].Path)
	// Output:
	// fresh: <nil>
	// tampered: releases/1.0.0/app
}
