package sim

import "strings"

// DemoDomain is the one domain the demo service uses, as the national
// service gives everyone one domain.
const DemoDomain = "nhs.test"

// DemoPassword is every demo person's password. The demo is for trying
// Wardmail on one machine; real deployments import their directory.
const DemoPassword = "wardmail-demo"

// DemoPerson is one person of the demo service.
type DemoPerson struct {
	Email, Name, Org, Role, Site string
}

// DemoPeople returns the demo health service: 20 people in four real
// organisations (three trusts and a pharmacy) with clinical and admin roles.
func DemoPeople() []DemoPerson {
	orgs := Orgs()
	pick := func(code string) string {
		for _, o := range orgs {
			if o.Code == code {
				return o.Name
			}
		}
		return code
	}
	manchester, dorset, leeds := pick("R0A"), pick("R0D"), pick("RR8")
	var pharmacy string
	for _, o := range orgs {
		if strings.Contains(strings.ToLower(o.Type), "pharmac") {
			pharmacy = o.Name
			break
		}
	}
	people := []struct{ first, last, org, role, site string }{
		{"Amira", "Khan", manchester, "consultant", "Manchester Royal Infirmary"},
		{"Ben", "Okafor", manchester, "nurse", "Manchester Royal Infirmary"},
		{"Chloe", "Davies", manchester, "admin", "Wythenshawe Hospital"},
		{"Daniel", "Murphy", manchester, "pharmacist", "Wythenshawe Hospital"},
		{"Ella", "Nowak", manchester, "it", "Oxford Road Campus"},
		{"Farah", "Hussain", manchester, "manager", "Oxford Road Campus"},
		{"George", "Williams", dorset, "consultant", "Royal Bournemouth Hospital"},
		{"Hannah", "Evans", dorset, "nurse", "Poole Hospital"},
		{"Ibrahim", "Ali", dorset, "admin", "Poole Hospital"},
		{"Jess", "Taylor", dorset, "midwife", "Royal Bournemouth Hospital"},
		{"Kwame", "Mensah", dorset, "it", "Christchurch Hospital"},
		{"Laura", "Smith", leeds, "consultant", "St James's University Hospital"},
		{"Mohammed", "Rahman", leeds, "nurse", "Leeds General Infirmary"},
		{"Niamh", "Kelly", leeds, "admin", "Leeds General Infirmary"},
		{"Oliver", "Brown", leeds, "manager", "St James's University Hospital"},
		{"Priya", "Patel", leeds, "pharmacist", "Chapel Allerton Hospital"},
		{"Quentin", "Hughes", leeds, "porter", "Chapel Allerton Hospital"},
		{"Rosa", "Martinez", pharmacy, "pharmacist", "High Street"},
		{"Sam", "Lee", pharmacy, "technician", "High Street"},
		{"Tom", "Wilson", pharmacy, "admin", "High Street"},
	}
	out := make([]DemoPerson, 0, len(people))
	for _, p := range people {
		out = append(out, DemoPerson{
			Email: strings.ToLower(p.first+"."+p.last) + "@" + DemoDomain,
			Name:  p.first + " " + p.last, Org: p.org, Role: p.role, Site: p.site,
		})
	}
	return out
}
