package sim

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// writeStormChart draws latency over time as SVG, with the incident
// shaded: mailbox-open p50 and p99 and one-to-one delivery p99 per time
// bucket. Our own few lines rather than a plotting dependency.
func writeStormChart(w io.Writer, r *StormResult) error {
	const W, H, left, right, top, bottom = 900.0, 420.0, 70.0, 20.0, 40.0, 60.0
	total := r.quiet*2 + r.during
	if len(r.opens) > 0 {
		total = max(total, r.opens[len(r.opens)-1].at)
	}
	bucket := max(time.Second, total/60)
	n := int(total/bucket) + 1
	series := func(s []sample, p int) []float64 {
		by := make([][]time.Duration, n)
		for _, x := range s {
			if i := int(x.at / bucket); i < n {
				by[i] = append(by[i], x.d)
			}
		}
		out := make([]float64, n)
		for i, b := range by {
			out[i] = math.NaN()
			if len(b) > 0 {
				out[i] = PercentileMs(b, p)
			}
		}
		return out
	}
	lines := []struct {
		name, colour string
		v            []float64
	}{
		{"mailbox open p50", "#1f77b4", series(r.opens, 50)},
		{"mailbox open p99", "#d62728", series(r.opens, 99)},
		{"one-to-one delivery p99", "#2ca02c", series(r.sends, 99)},
	}
	top99 := 1.0
	for _, l := range lines {
		for _, v := range l.v {
			if !math.IsNaN(v) {
				top99 = max(top99, v)
			}
		}
	}
	ymax := niceCeil(top99 * 1.1)
	x := func(t time.Duration) float64 { return left + (W-left-right)*t.Seconds()/total.Seconds() }
	y := func(ms float64) float64 { return H - bottom - (H-top-bottom)*ms/ymax }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="14" font-weight="bold">wardmail sim replay %s, protection %s: latency over time</text>`+"\n", left, r.Scenario, onOff(r.Protection))
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" fill="#fde0c5"/>`+"\n", x(r.quiet), top, x(r.quiet+r.during)-x(r.quiet), H-top-bottom)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" fill="#a0522d">incident: post + %d reply-alls (%d accepted)</text>`+"\n", x(r.quiet)+4, top+14, r.StormSent, r.StormAccepted)
	if r.purgeAt > 0 {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#555" stroke-dasharray="4 3"/><text x="%.1f" y="%.0f" fill="#555">purge (%.1f s)</text>`+"\n",
			x(r.purgeAt), x(r.purgeAt), top, H-bottom, x(r.purgeAt)+4, top+30, r.PurgeSeconds)
	}
	for i := 0; i <= 5; i++ {
		v := ymax * float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, W-right, y(v), y(v), left-6, y(v)+4, trimFloat(v))
	}
	for i := 0; i <= 6; i++ {
		t := total * time.Duration(i) / 6
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", x(t), H-bottom+18, t.Round(time.Second))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">time since start (buckets of %s)</text>`+"\n", (W+left)/2, H-bottom+36, bucket)
	fmt.Fprintf(&b, `<text transform="translate(16 %.0f) rotate(-90)" text-anchor="middle">latency, ms</text>`+"\n", (H-bottom+top)/2)
	fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="black"/><line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="black"/>`+"\n",
		left, left, top, H-bottom, left, W-right, H-bottom, H-bottom)
	for k, l := range lines {
		var pts []string
		for i, v := range l.v {
			if math.IsNaN(v) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(time.Duration(i)*bucket+bucket/2), y(v)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", l.colour, strings.Join(pts, " "))
		lx := left + 10 + float64(k)*210
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="%s" stroke-width="3"/><text x="%.0f" y="%.0f">%s</text>`+"\n",
			lx, lx+20, H-10, H-10, l.colour, lx+26, H-6, l.name)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
