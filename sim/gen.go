package sim

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// GenConfig shapes a synthetic health service.
type GenConfig struct {
	People int    // total people (1,200,000 for the national replays)
	Orgs   int    // organisations (250)
	Seed   uint64 // same seed, same service
	Domain string // everyone's domain ("nhs.test")
}

// GenOrg is one generated organisation with its head count.
type GenOrg struct {
	Name   string
	Sites  []string
	People int
}

var (
	firstNames = strings.Fields(`Aaliyah Abdul Adam Aisha Alex Alice Amelia Amir Amy Ana Andrew Anna Arjun Ava
		Ben Beth Bilal Callum Charlie Chen Chloe Chris Daniel David Ella Emily Emma Ethan Eva Fatima Finn Freya
		George Grace Hannah Harry Hassan Isaac Isla Jack Jacob James Jamie Jess Joe John Jordan Joseph Josh Kate
		Katie Kwame Laura Leah Leo Liam Lily Lucy Luke Maria Mark Matthew Maya Mia Michael Mohammed Molly Nathan
		Niamh Noah Olivia Omar Oscar Owen Patrick Paul Priya Rachel Rebecca Rhys Rosa Ruby Ryan Sam Sara Sarah
		Sean Sophie Tom Usman Wei Will Yusuf Zara Zoe`)
	lastNames = strings.Fields(`Abbott Adams Ahmed Ali Allen Anderson Bailey Baker Begum Bell Bennett Brown
		Campbell Carter Chen Clark Clarke Collins Cook Cooper Davies Davis Edwards Evans Fisher Green Hall Harris
		Harrison Hill Hughes Hussain Jackson James Jenkins Johnson Jones Kaur Kelly Khan King Kumar Lee Lewis
		Martin Mason Mensah Mitchell Moore Morgan Morris Murphy Nowak Okafor Parker Patel Phillips Price Rahman
		Roberts Robinson Rogers Scott Shah Singh Smith Stewart Taylor Thomas Thompson Turner Walker Ward Watson
		White Williams Wilson Wood Wright Young`)
	// Roles with their share of the workforce (a rough NHS mix).
	roles = []struct {
		name   string
		weight int
	}{
		{"nurse", 30}, {"admin", 18}, {"healthcare-assistant", 14}, {"doctor", 10}, {"consultant", 4},
		{"allied-health", 8}, {"pharmacist", 2}, {"scientist", 4}, {"manager", 5}, {"it", 2}, {"estates", 3},
	}
	siteWords = strings.Fields(`General Royal District Community Memorial University County City Victoria St-Mary's`)
)

// GenerateOrgs picks organisations and sizes them with a heavy tail: most
// have a few hundred to a few thousand people, a few have tens of thousands
// (like the largest acute trusts), and the sizes add up to cfg.People.
func GenerateOrgs(cfg GenConfig) []GenOrg {
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	all := Orgs()
	var trusts, others []Org
	for _, o := range all {
		if strings.Contains(strings.ToLower(o.Type), "trust") {
			trusts = append(trusts, o)
		} else {
			others = append(others, o)
		}
	}
	pool := append(trusts, others...) // trusts first: they take the large sizes
	var orgs []GenOrg
	weights := make([]float64, cfg.Orgs)
	total := 0.0
	for i := 0; i < cfg.Orgs; i++ {
		name := ""
		if i < len(pool) {
			name = pool[i].Name
		} else {
			name = fmt.Sprintf("%s (%d)", pool[i%len(pool)].Name, i/len(pool)+1)
		}
		// Pareto(alpha=1.2) weights, sorted so the trusts get the large ones.
		weights[i] = math.Pow(1-rng.Float64(), -1/1.2)
		total += weights[i]
		sites := make([]string, 1+rng.IntN(5))
		for j := range sites {
			sites[j] = fmt.Sprintf("%s %s", siteWords[rng.IntN(len(siteWords))], []string{"Hospital", "Centre", "Clinic", "House"}[rng.IntN(4)])
		}
		orgs = append(orgs, GenOrg{Name: name, Sites: sites})
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(weights)))
	assigned := 0
	for i := range orgs {
		orgs[i].People = int(float64(cfg.People) * weights[i] / total)
		if orgs[i].People < 1 {
			orgs[i].People = 1
		}
		assigned += orgs[i].People
	}
	orgs[0].People += cfg.People - assigned // rounding
	if orgs[0].People < 1 {
		orgs[0].People = 1
	}
	return orgs
}

// WritePeopleCSV writes the service as a directory import file
// (email,name,org,role,site). Addresses are unique: first.last, then a
// number when taken.
func WritePeopleCSV(w io.Writer, cfg GenConfig) ([]GenOrg, error) {
	if cfg.Domain == "" {
		cfg.Domain = DemoDomain
	}
	orgs := GenerateOrgs(cfg)
	rng := rand.New(rand.NewPCG(cfg.Seed, 2))
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.WriteString("email,name,org,role,site\n"); err != nil {
		return nil, err
	}
	totalWeight := 0
	for _, r := range roles {
		totalWeight += r.weight
	}
	used := make(map[string]int, cfg.People)
	for _, o := range orgs {
		orgField := csvField(o.Name)
		for i := 0; i < o.People; i++ {
			first := firstNames[rng.IntN(len(firstNames))]
			last := lastNames[rng.IntN(len(lastNames))]
			base := strings.ToLower(first + "." + last)
			n := used[base]
			used[base] = n + 1
			local := base
			if n > 0 {
				local = fmt.Sprintf("%s%d", base, n)
			}
			pick := rng.IntN(totalWeight)
			role := roles[0].name
			for _, r := range roles {
				if pick < r.weight {
					role = r.name
					break
				}
				pick -= r.weight
			}
			site := o.Sites[rng.IntN(len(o.Sites))]
			if _, err := fmt.Fprintf(bw, "%s@%s,%s %s,%s,%s,%s\n", local, cfg.Domain, first, last, orgField, role, csvField(site)); err != nil {
				return nil, err
			}
		}
	}
	return orgs, bw.Flush()
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
