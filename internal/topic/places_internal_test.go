package topic

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unMembers are the 193 member states of the United Nations and its two
// observer states, as their names are commonly written in English news.
var unMembers = []string{
	"Afghanistan", "Albania", "Algeria", "Andorra", "Angola", "Antigua and Barbuda", "Argentina", "Armenia",
	"Australia", "Austria", "Azerbaijan", "Bahamas", "Bahrain", "Bangladesh", "Barbados", "Belarus", "Belgium",
	"Belize", "Benin", "Bhutan", "Bolivia", "Bosnia and Herzegovina", "Botswana", "Brazil", "Brunei", "Bulgaria",
	"Burkina Faso", "Burundi", "Cabo Verde", "Cambodia", "Cameroon", "Canada", "Central African Republic", "Chad",
	"Chile", "China", "Colombia", "Comoros", "Congo", "Costa Rica", "Côte d'Ivoire", "Croatia", "Cuba", "Cyprus",
	"Czechia", "Democratic Republic of the Congo", "Denmark", "Djibouti", "Dominica", "Dominican Republic",
	"Ecuador", "Egypt", "El Salvador", "Equatorial Guinea", "Eritrea", "Estonia", "Eswatini", "Ethiopia", "Fiji",
	"Finland", "France", "Gabon", "Gambia", "Georgia", "Germany", "Ghana", "Greece", "Grenada", "Guatemala",
	"Guinea", "Guinea-Bissau", "Guyana", "Haiti", "Honduras", "Hungary", "Iceland", "India", "Indonesia", "Iran",
	"Iraq", "Ireland", "Israel", "Italy", "Jamaica", "Japan", "Jordan", "Kazakhstan", "Kenya", "Kiribati",
	"Kuwait", "Kyrgyzstan", "Laos", "Latvia", "Lebanon", "Lesotho", "Liberia", "Libya", "Liechtenstein",
	"Lithuania", "Luxembourg", "Madagascar", "Malawi", "Malaysia", "Maldives", "Mali", "Malta", "Marshall Islands",
	"Mauritania", "Mauritius", "Mexico", "Micronesia", "Moldova", "Monaco", "Mongolia", "Montenegro", "Morocco",
	"Mozambique", "Myanmar", "Namibia", "Nauru", "Nepal", "Netherlands", "New Zealand", "Nicaragua", "Niger",
	"Nigeria", "North Korea", "North Macedonia", "Norway", "Oman", "Pakistan", "Palau", "Panama",
	"Papua New Guinea", "Paraguay", "Peru", "Philippines", "Poland", "Portugal", "Qatar", "Romania", "Russia",
	"Rwanda", "Saint Kitts and Nevis", "Saint Lucia", "Saint Vincent and the Grenadines", "Samoa", "San Marino",
	"Sao Tome and Principe", "Saudi Arabia", "Senegal", "Serbia", "Seychelles", "Sierra Leone", "Singapore",
	"Slovakia", "Slovenia", "Solomon Islands", "Somalia", "South Africa", "South Korea", "South Sudan", "Spain",
	"Sri Lanka", "Sudan", "Suriname", "Sweden", "Switzerland", "Syria", "Tajikistan", "Tanzania", "Thailand",
	"Timor-Leste", "Togo", "Tonga", "Trinidad and Tobago", "Tunisia", "Turkey", "Turkmenistan", "Tuvalu", "Uganda",
	"Ukraine", "United Arab Emirates", "United Kingdom", "United States", "Uruguay", "Uzbekistan", "Vanuatu",
	"Venezuela", "Vietnam", "Yemen", "Zambia", "Zimbabwe",
	"Palestine", // observer; the other, the Holy See, has no demonym
}

// policyPlaces are the regions and places the editorial policy names (the
// Caribbean is its own adjective).
var policyPlaces = []string{"Taiwan", "Korea", "Southeast Asia", "South Asia", "East Asia", "Pacific Islands",
	"Latin America", "Central America", "Crimea", "Middle East", "Africa", "Europe", "Hong Kong"}

func TestPlaceTableCoversEveryCountry(t *testing.T) {
	if len(unMembers) != 194 {
		t.Fatalf("the list has %d countries, want 193 members and Palestine", len(unMembers))
	}
	forms := placeForms().forms
	for _, name := range append(unMembers, policyPlaces...) {
		fs, ok := forms[placeKey(name)]
		if !ok {
			t.Errorf("no forms for %s", name)
			continue
		}
		for _, f := range fs {
			if f == "" || strings.EqualFold(f, name) {
				t.Errorf("%s has the useless form %q", name, f)
			}
		}
	}
}

// FuzzStemGuard checks what the doc's stemming shortcut rests on: every
// word of ASCII letters begins with the guard of its own stem, so a word
// that begins with no rule stem's guard cannot have a rule's stem.
func FuzzStemGuard(f *testing.F) {
	for _, w := range []string{"hoping", "happily", "possibility", "skies", "dying", "lying", "tying", "agency",
		"probably", "feebly", "mobility", "nationalization", "troubling", "generously", "ugly", "early", "news"} {
		f.Add(w)
	}
	var st stemmer
	f.Fuzz(func(t *testing.T, w string) {
		w = strings.ToLower(w)
		for i := 0; i < len(w); i++ {
			if w[i] < 'a' || w[i] > 'z' {
				return // the doc stems words of ASCII letters only
			}
		}
		if g := stemGuard(st.stem(w)); !strings.HasPrefix(w, g) {
			t.Errorf("%q stems to %q, whose guard %q it does not begin with", w, st.stem(w), g)
		}
	})
}

// TestSourceHasNoControlBytes: issue 7 found a backspace byte in a doc
// comment, where "\b" had been meant.
func TestSourceHasNoControlBytes(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range src {
			if c < ' ' && c != '\n' && c != '\t' {
				t.Errorf("%s: control byte %#x at offset %d", name, c, i)
			}
		}
	}
}
