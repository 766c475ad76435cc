package directory_test

import (
	"fmt"
	"io"
)

// generator is an io.Reader producing a valid import file of n rows on the
// fly, so big files need no memory. With password set, rows carry a password.
type generator struct {
	n, i     int
	password []byte
	buf      []byte
}

func newGenerator(n int, password []byte) *generator {
	g := &generator{n: n, password: password}
	if password != nil {
		g.buf = []byte("email,name,org,role,site,password\n")
	} else {
		g.buf = []byte("email,name,org,role,site\n")
	}
	return g
}

func (g *generator) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.i < g.n {
		g.i++
		g.buf = fmt.Appendf(g.buf, "Person.%d@Dept%d.Example.GOV,\"Person Number %d, Esq.\",Ministry of Things %d,Officer,Site %d",
			g.i, g.i%50, g.i, g.i%300, g.i%20)
		if g.password != nil {
			g.buf = append(g.buf, ',')
			g.buf = append(g.buf, g.password...)
		}
		g.buf = append(g.buf, '\n')
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	return n, nil
}
