// Package ociimage writes container images in the OCI image format with the
// standard library only: an image layout directory (oci-layout, index.json,
// blobs/sha256/...) and the same layout as a tar file that `docker load`,
// `podman load` and `skopeo copy oci-archive:` read (for one platform it
// also carries Docker's manifest.json).
//
// An [Image] is a list of layers, each a list of [Entry] values, plus its
// [Config]; [Write] turns one image per platform into blobs, manifests and,
// for several platforms, an image index. Everything is reproducible: entries
// are sorted, every time is the image's Created time, owners are numeric,
// gzip headers carry no name or time, and JSON is written in one canonical
// form, so the same input gives the same digest.
//
// Nothing is pulled: there is no base image, every file of the root file
// system is an Entry (FROM scratch by construction).
package ociimage
