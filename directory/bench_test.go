package directory_test

import (
	"bytes"
	"io"
	"testing"

	"wardmail/directory"
)

// BenchmarkParseCSV parses a generated file of 1.2 million rows, the size of
// the national directory, held in memory so that only parsing is measured.
// It reports rows/s.
func BenchmarkParseCSV(b *testing.B) {
	const rows = 1_200_000
	for _, bc := range []struct {
		name     string
		password []byte
	}{{"NoPassword", nil}, {"Password", []byte("correct horse battery staple")}} {
		b.Run(bc.name, func(b *testing.B) {
			data, err := io.ReadAll(newGenerator(rows, bc.password))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				err := directory.ParseCSV(bytes.NewReader(data), "bench.csv", func(directory.Entry) error {
					n++
					return nil
				})
				if err != nil || n != rows {
					b.Fatalf("ParseCSV: %d rows, %v", n, err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
