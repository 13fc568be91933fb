// Package sluice holds the files embedded into the sluice binary: the
// console's built front end, the bundled tutorials and the sample codebases.
package sluice

import "embed"

// Assets contains web/dist, tutorials and codebases, rooted at the module root.
//
//go:embed web/dist tutorials codebases
var Assets embed.FS
