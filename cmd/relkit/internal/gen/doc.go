// Package gen writes deployment files for a relkit release from embedded
// text/template templates: a multi-stage Dockerfile and .dockerignore
// ([Docker]), systemd service and socket units ([Systemd]), Kubernetes
// manifests ([Kubernetes]) and an Ansible playbook and role for rolling
// deploys to several hosts ([Ansible]; its templates are Jinja files
// themselves, so they use [% %] as delimiters).
//
// Every generator takes an [App], what the built binary says about itself
// (name, version, port, secret variables), validates it for the target
// (a Kubernetes name must be a DNS label, a unit name a valid unit name, a
// version a valid image tag) and returns the files to write, sorted by
// name. Nothing is written to disk here.
package gen
