// Package samples checks the sample codebases under codebases/ end to end:
// each is loaded from the repository, its mock services are started, and
// the requests its README shows get the answers it promises.
package samples
