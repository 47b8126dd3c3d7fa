package config_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/story"
)

// defaultConfig is the shipped config; the editorial decisions below are
// what its topics promise.
const defaultConfig = "../../config/newsdesk.yaml"

// ecuadorConsulate is the long text of the seed story that must land in
// immigration on its body as well as its title.
const ecuadorConsulate = `A U.S. Immigration and Customs Enforcement (ICE) agent attempted to enter Ecuador's consulate in Minneapolis earlier this week but was stopped by consulate staff, prompting a diplomatic protest from Ecuador's government and renewed scrutiny of U.S. immigration enforcement tactics.
According to Ecuador's Foreign Ministry, the incident occurred on Tuesday when ICE agents tried to gain access to the consulate building. Staff members refused entry, citing international diplomatic protections, and successfully prevented the agents from entering the premises.
The incident unfolded amid Operation Metro Surge, a large-scale immigration enforcement campaign launched in Minneapolis under orders from President Donald Trump. The operation has involved roughly 3,000 ICE and U.S. Border Patrol agents and has significantly escalated tensions in the city.
Neither the U.S. State Department nor the Department of Homeland Security immediately responded to media inquiries regarding the consulate incident.`

func TestDefaultTopics(t *testing.T) {
	cfg, err := config.Load(defaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, title, summary, content string
		want, notWant                 []string
	}{
		{"ICE at a consulate is immigration", "ICE Agent Blocked From Entering Ecuador’s Consulate in Minneapolis",
			"Staff refused entry to U.S. agents and Quito sent a note of protest.", ecuadorConsulate,
			[]string{"immigration"}, []string{"asia-pacific-security"}},
		{"criticism of ICE is immigration", "Sam Altman Criticizes ICE Enforcement as Corporate Leaders Call for De-Escalation",
			"Tech executives urged the administration to ease its enforcement operations.", "",
			[]string{"immigration"}, []string{"asia-pacific-security"}},
		{"immigration named in a protest story", "Australia Day Protests Highlight Deep Divisions Over Indigenous Rights and Immigration",
			"Thousands marched in Sydney and Melbourne on the national holiday.", "",
			[]string{"immigration"}, []string{"asia-pacific-security"}},
		{"Senkaku is a flashpoint", "Japan Urges Fishermen to Avoid Senkaku Islands as China Tensions Rise",
			"Tokyo issued the advisory after Chinese coast guard vessels entered nearby waters.", "",
			[]string{"asia-pacific-security"}, []string{"immigration"}},
		{"Taiwan stance and alliance", "Japan PM Sanae Takaichi Clarifies Taiwan Stance, Stresses Importance of U.S. Alliance",
			"The prime minister told parliament her remarks did not change Japan's policy.", "",
			[]string{"asia-pacific-security"}, []string{"immigration"}},
		{"Korean defense ties", "U.S., South Korea Deepen Defense Ties as Seoul Pursues Nuclear-Powered Submarine",
			"Officials agreed to expand cooperation on shipbuilding and deterrence.", "",
			[]string{"asia-pacific-security"}, []string{"immigration"}},
		{"Ukraine guarantees", "U.S. Links Security Guarantees to Ukraine Peace Deal Talks With Russia",
			"Washington said guarantees depend on a signed agreement.", "",
			[]string{"ukraine-russia"}, []string{"immigration", "asia-pacific-security"}},
		{"Guatemala state of siege", "Guatemala Declares State of Siege After Deadly Gang Violence and Prison Hostage Crisis",
			"The government suspended some rights for 30 days.", "",
			[]string{"latin-america-security"}, []string{"immigration"}},
		{"Haiti visa restrictions are security, not immigration", "U.S. Imposes Visa Restrictions on Haiti Transitional Council Over Gang Allegations",
			"The State Department cited links to armed groups.", "",
			[]string{"latin-america-security"}, []string{"immigration"}},
		{"homebuyer plan", "Trump Pushes Back on 401(k) Homebuyer Plan Amid Housing Affordability Debate",
			"The proposal would let savers tap retirement accounts for down payments.", "",
			[]string{"housing"}, nil},
		{"data centers strain the grid", "White House Pressures PJM to Act as Data Center Energy Demand Threatens Grid Reliability",
			"The regional operator faces record demand forecasts.", "",
			[]string{"energy-grid"}, nil},
		{"ice hockey is not ICE", "Ice Hockey: Canada Beats Sweden in Overtime Thriller",
			"A late goal sealed the semifinal in front of a sold-out crowd.", "",
			nil, []string{"immigration", "asia-pacific-security"}},
		{"ice storm is not ICE, nor the grid when it closes roads", "Ice Storm Glazes Roads Across Texas as Temperatures Plunge",
			"Forecasters warned of black ice on highways through the weekend.", "",
			nil, []string{"immigration", "asia-pacific-security", "energy-grid"}},
		// The editorial policy's conventions for the borderline cases, one
		// row each.
		{"weather is the grid's when it cuts power", "ICE STORM KNOCKS OUT POWER TO 200,000 IN OKLAHOMA",
			"Crews worked overnight to restore electricity.", "",
			[]string{"energy-grid"}, []string{"immigration"}},
		{"war-time deportation is the war, not immigration", "Kyiv Says 19,500 Children Were Deported to Russia",
			"Ukrainian officials said 1,600 had been brought back from occupied territories.", "",
			[]string{"ukraine-russia"}, []string{"immigration"}},
		{"war refugees' protection is both", "EU Extends Temporary Protection for Ukrainian Refugees",
			"About 4.3 million people who fled Russia's invasion keep their residence rights.", "",
			[]string{"immigration", "ukraine-russia"}, nil},
		{"deportation to a country is not its security", "Venezuelans Deported From US Land in Caracas",
			"The removal flight carried 180 people from Texas.", "",
			[]string{"immigration"}, []string{"latin-america-security"}},
		{"deported gang members are both", "Alleged MS-13 Leader Deported to El Salvador to Face Charges",
			"He will be held in the mega-prison built for gang members.", "",
			[]string{"immigration", "latin-america-security"}, nil},
		{"energy under attack is both", "Ukrainian Drone Strike Sets Russian Refinery Ablaze",
			"The refinery in Volgograd halted output after the attack.", "",
			[]string{"ukraine-russia", "energy-grid"}, nil},
		{"country is not topic", "Taiwan Power Posts Smaller Loss as Fuel Costs Ease",
			"The state utility said lower LNG prices narrowed its deficit.", "",
			[]string{"energy-grid"}, []string{"asia-pacific-security"}},
		{"other regions' security gets no topic", "Israeli Strikes Hit Hezbollah Positions in Southern Lebanon",
			"The army said it targeted weapons depots.", "",
			nil, []string{"asia-pacific-security", "ukraine-russia", "latin-america-security"}},
		{"disaster relief by an army is not security", "Philippine Army Airlifts Aid to Typhoon-Hit Northern Luzon",
			"Soldiers flew food and water to cut-off villages.", "",
			nil, []string{"asia-pacific-security"}},
		{"Visa the card network", "VISA QUARTERLY REVENUE RISES 11% AS CROSS-BORDER SPENDING CLIMBS",
			"Payment volumes grew as travel recovered.", "",
			nil, []string{"immigration"}},
		{"an energy drink", "Energy Drink Maker Monster Beats Sales Forecasts",
			"Sales of its canned drinks rose 11%.", "",
			nil, []string{"energy-grid"}},
		{"a zoo's housing", "Zoo Unveils New Elephant Housing Built for Colder Winters",
			"The heated barn cost $8 million.", "",
			nil, []string{"housing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := story.Story{Source: "world-desk", Language: "en", Title: tt.title, Summary: tt.summary,
				SummaryText: tt.summary, Content: tt.content, ContentText: tt.content}
			got := cfg.Set.Classify(s)
			for _, slug := range tt.want {
				if !slices.Contains(got, slug) {
					t.Errorf("Classify(%q) = %v, want it in %s", tt.title, got, slug)
				}
			}
			for _, slug := range tt.notWant {
				if slices.Contains(got, slug) {
					t.Errorf("Classify(%q) = %v, want it not in %s", tt.title, got, slug)
				}
			}
		})
	}
}

// TestDefaultConfig holds the promises the shipped config makes: it reads
// the bundled feeds, which exist, and lists the required topics.
func TestDefaultConfig(t *testing.T) {
	cfg, err := config.Load(defaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	bundled := 0
	for _, src := range cfg.Sources {
		path, ok := strings.CutPrefix(src.URL, "file://")
		if !ok {
			continue
		}
		bundled++
		if !fileExists(filepath.FromSlash(path)) {
			t.Errorf("source %s reads %s, which does not exist", src.Name, path)
		}
	}
	if bundled == 0 {
		t.Error("the default config reads none of the bundled feeds, so it cannot work offline")
	}
	for _, slug := range []string{"immigration", "asia-pacific-security", "ukraine-russia", "latin-america-security", "housing", "energy-grid"} {
		if cfg.Set.Lookup(slug) == nil {
			t.Errorf("default config has no topic %q", slug)
		}
	}
}

// TestShippedConfigsLoad loads every config/*.yaml.
func TestShippedConfigsLoad(t *testing.T) {
	paths, err := filepath.Glob("../../config/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no configs found: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := config.Load(path); err != nil {
				t.Error(err)
			}
		})
	}
}
