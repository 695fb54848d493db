//go:build tools

// The Go programs the project builds from the Go module proxy (pinned by
// go.mod/go.sum beside this file; built by ./build.sh and cached):
// crane pushes the image `npm run image` assembles (and serves the registry
// the image test pushes to); kube-score judges the rendered Helm chart.
package tools

import (
	_ "github.com/google/go-containerregistry/cmd/crane"
	_ "github.com/zegl/kube-score/cmd/kube-score"
)
