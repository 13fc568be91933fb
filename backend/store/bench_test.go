package store

import (
	"fmt"
	"testing"
)

// What every worker asks for on each check and each download.
func BenchmarkWorkerReads(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Create("/base", ""); err != nil {
		b.Fatal(err)
	}
	for i := range 20 {
		s.WriteFile("/base", fmt.Sprintf("/plugins/p%d.js", i), []byte("pipy()"), "")
	}
	if _, err := s.Commit("/base", 2); err != nil {
		b.Fatal(err)
	}
	if err := s.Create("/app", "/base"); err != nil {
		b.Fatal(err)
	}
	b.Run("Version", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Version("/app"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Manifest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.Manifest("/app"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CommittedFile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.CommittedFile("/app", "/plugins/p7.js"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSaveDraft(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Create("/c", "")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.WriteFile("/c", "/main.js", []byte(fmt.Sprintf("pipy() // %d", i)), ""); err != nil {
			b.Fatal(err)
		}
	}
}
