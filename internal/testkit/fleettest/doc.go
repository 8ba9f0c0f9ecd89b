// Package fleettest deploys a release to several hosts with the playbook
// `relkit gen ansible` writes, end to end: hosts are network namespaces on
// a bridge, each with its own address and sshd (key authentication, strict
// host key checking); haproxy in front checks their /readyz; one
// PostgreSQL database is shared by them; the real ansible-playbook runs
// the rollouts while a bounded load goes through haproxy.
//
// It needs root and takes minutes, so it runs only with RELKIT_FLEET=1
// (.ci/run sets it):
//
//	RELKIT_FLEET=1 go test ./internal/testkit/fleettest -run TestFleet -v
//
// RELKIT_FLEET_LOGS=DIR keeps each playbook run's log and json output in
// DIR. The test installs the Debian packages it needs (openssh-server,
// haproxy, ansible) when missing, and ends every process it started by
// PID and removes every namespace, veth, bridge and route it made.
package fleettest
