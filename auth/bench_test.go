package auth_test

import (
	"context"
	"testing"
	"time"

	"wardmail/auth"
)

// BenchmarkVerify measures one verification with DefaultParams: the cost of a
// sign-in and so how many a worker can serve per second.
func BenchmarkVerify(b *testing.B) {
	enc, err := auth.HashPassword(auth.DefaultParams(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := auth.VerifyPassword(enc, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkHasherVerifyParallel measures throughput of a Hasher with one
// worker per CPU under more callers than workers.
func BenchmarkHasherVerifyParallel(b *testing.B) {
	enc, err := auth.HashPassword(auth.DefaultParams(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	h := auth.NewHasher(auth.DefaultParams(), 0, time.Minute)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := h.Verify(context.Background(), enc, "correct horse battery staple"); !ok || err != nil {
				b.Error(ok, err)
				return
			}
		}
	})
}
