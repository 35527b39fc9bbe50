//go:build !go1.24

// Before Go 1.24 there is no runtime.AddCleanup and no package weak: the
// finalizers program builds only its SetFinalizer shapes.

package main

import "corpus/manifest"

const modernFeatures = "no runtime.AddCleanup, no weak.Pointer (before go1.24)"

func buildModernLive()                       {}
func buildModernGarbage()                    {}
func changeModern()                          {}
func describeModern(m *manifest.M, stop int) {}
