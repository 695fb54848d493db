//go:build tools

// Package tools pins the etcd server the integration tests build.
package tools

import _ "go.etcd.io/etcd/server/v3"
