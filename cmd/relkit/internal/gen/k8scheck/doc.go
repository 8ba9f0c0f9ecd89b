// Package k8scheck holds a test-only check: the Kubernetes manifests of
// relkit gen k8s decode strictly (no unknown or misplaced field) into the
// Kubernetes API types of k8s.io/api, and mean what relkit intends.
//
// It lives in its own module so k8s.io/api stays out of relkit's go.mod and
// go.sum. Run it from this directory with go test ./... (the repository's
// CI does, through .ci/extra/k8scheck).
package k8scheck
