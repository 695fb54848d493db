//go:build tools

// Package tools pins the Kubernetes control-plane commands the integration
// tests build; nothing here is compiled into the operator.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
