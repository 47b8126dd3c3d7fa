package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// The file* types mirror the YAML document key for key. Their yaml tags are
// the config's vocabulary (newsdesk.schema.json lists the same names; a test
// keeps the two in sync). Durations and sizes stay text until check() so that
// every bad value is reported, not only the first.

type fileConfig struct {
	Site      fileSite      `yaml:"site"`
	Listen    string        `yaml:"listen"`
	Refresh   string        `yaml:"refresh"`
	Timezone  string        `yaml:"timezone"`
	LogLevel  string        `yaml:"log_level"`
	LogFormat string        `yaml:"log_format"`
	Fetch     fileFetch     `yaml:"fetch"`
	Retention fileRetention `yaml:"retention"`
	Admin     fileAdmin     `yaml:"admin"`
	Status    fileStatus    `yaml:"status"`
	LogAccess scalar        `yaml:"log_access"`
	HTTP      fileHTTP      `yaml:"http"`
	Limits    fileLimits    `yaml:"limits"`
	Sources   []fileSource  `yaml:"sources"`
	// SourcesFrom names OPML files whose feeds are sources too (opml.go).
	SourcesFrom []string    `yaml:"sources_from"`
	Topics      []fileTopic `yaml:"topics"`
}

type fileSite struct {
	Title        string   `yaml:"title"`
	Description  string   `yaml:"description"`
	PublicURL    string   `yaml:"public_url"`
	Language     string   `yaml:"language"`
	TagAuthority string   `yaml:"tag_authority"`
	Hubs         []string `yaml:"hubs"`
}

type fileFetch struct {
	Timeout        scalar   `yaml:"timeout"`
	ConnectTimeout scalar   `yaml:"connect_timeout"`
	IdleTimeout    scalar   `yaml:"idle_timeout"`
	MaxBody        scalar   `yaml:"max_body"`
	MaxRedirects   *int     `yaml:"max_redirects"`
	Workers        *int     `yaml:"workers"`
	PerHost        *int     `yaml:"per_host"`
	MinInterval    scalar   `yaml:"min_interval"`
	MaxInterval    scalar   `yaml:"max_interval"`
	AllowNetworks  []string `yaml:"allow_networks"`
	Proxy          string   `yaml:"proxy"`
}

type fileRetention struct {
	MaxAge     scalar `yaml:"max_age"`
	MaxStories *int   `yaml:"max_stories"`
}

type fileAdmin struct {
	Listen string `yaml:"listen"`
	Token  string `yaml:"token"`
}

type fileStatus struct {
	Public scalar `yaml:"public"`
}

type fileLimits struct {
	PerClientConnections *int `yaml:"per_client_connections"`
}

type fileSource struct {
	Name     string `yaml:"name"`
	Title    string `yaml:"title"`
	URL      string `yaml:"url"`
	Schedule string `yaml:"schedule"`
	MaxBody  scalar `yaml:"max_body"`
	Timeout  scalar `yaml:"timeout"`
}

type fileTopic struct {
	Slug        string       `yaml:"slug"`
	Title       string       `yaml:"title"`
	Description string       `yaml:"description"`
	Sources     []string     `yaml:"sources"`
	Limit       int          `yaml:"limit"`
	MaxAge      scalar       `yaml:"max_age"`
	Language    string       `yaml:"language"`
	Pin         []string     `yaml:"pin"`
	Block       []string     `yaml:"block"`
	Rule        ruleNode     `yaml:"rule"`
	Examples    fileExamples `yaml:"examples"`
}

// fileExamples are the stories a topic must and must not match.
type fileExamples struct {
	Match   []exampleNode `yaml:"match"`
	NoMatch []exampleNode `yaml:"no_match"`
}

// ruleKeys are the keys of one rule clause (a map in YAML, topic.Rule in Go).
// Rules are converted by hand in rule.go because a clause is either a bare
// word or a map, recursively, and every mistake in them should be reported.
var ruleKeys = []string{"term", "regex", "near", "with", "within", "case", "exact", "demonyms", "min_count",
	"apart", "any", "all", "not", "in", "weight", "min_score"}

// exampleKeys are the keys of one example story; a bare string is its title.
var exampleKeys = []string{"title", "summary", "categories", "link"}

// scalar is a YAML scalar kept as written ("30s", "90d", 10485760, "10MiB"),
// with its node for error positions. Empty when the key is absent.
type scalar struct {
	Text string
	Node ast.Node
}

// UnmarshalYAML keeps the node; check() parses it.
func (s *scalar) UnmarshalYAML(node ast.Node) error {
	node = unwrap(node, nil)
	if _, ok := node.(*ast.NullNode); ok {
		return nil
	}
	s.Node = node
	s.Text = scalarText(node)
	return nil
}

// ruleNode keeps a topic's rule subtree for rule.go.
type ruleNode struct{ Node ast.Node }

// UnmarshalYAML keeps the node.
func (r *ruleNode) UnmarshalYAML(node ast.Node) error {
	r.Node = node
	return nil
}

// exampleNode keeps one example story (a title, or a map) for rule.go.
type exampleNode struct{ Node ast.Node }

// UnmarshalYAML keeps the node.
func (x *exampleNode) UnmarshalYAML(node ast.Node) error {
	x.Node = node
	return nil
}

var (
	scalarType  = reflect.TypeFor[scalar]()
	ruleType    = reflect.TypeFor[ruleNode]()
	exampleType = reflect.TypeFor[exampleNode]()
)

// decoder walks the YAML tree before goccy decodes it, reporting every
// unknown key (with the nearest valid one), every list given where a map
// belongs and vice versa, and every non-number given for a number, so one run
// shows all structural mistakes. goccy itself stops at the first.
type decoder struct {
	src     []byte
	file    string
	anchors anchors
	probs   Errors
	visits  int     // nodes visited in this pass, aliases expanded; see spend
	inputs  []input // the OPML files read, in sources_from order
	// imported are the sources read from OPML, with their folders
	// (ImportOPML prints them).
	imported []imported
	// opmlRefused is set when a file of sources_from could not be read as
	// OPML: topics naming its feeds are not told the names are unknown.
	opmlRefused bool
}

// maxNodes bounds how far aliases may expand: "a1: &a1 [*a0, *a0]" chains
// double at every step (the billion-laughs attack), and a config never needs
// more than a few thousand nodes. resolve refuses a document that expands
// further before any pass over it begins.
const maxNodes = 200_000

// spend counts one visit to node in the current pass (walk, index or check)
// and reports false, once, past maxNodes. resolve has bounded the expanded
// document already, so this is a backstop, not the limit.
func (d *decoder) spend(node ast.Node) bool {
	d.visits++
	if d.visits == maxNodes+1 {
		d.add(node, "", fmt.Sprintf("the config expands to more than %d YAML nodes", maxNodes),
			"write out the values that aliases (*name) repeat")
	}
	return d.visits <= maxNodes
}

// pass starts a new pass over the document for spend.
func (d *decoder) pass() { d.visits = 0 }

func (d *decoder) add(node ast.Node, path, msg, hint string) {
	line, col := position(node)
	d.addAt(line, col, path, msg, hint)
}

func (d *decoder) addAt(line, col int, path, msg, hint string) {
	d.probs = append(d.probs, Problem{File: d.file, Line: line, Col: col, Path: path, Msg: msg, Hint: hint})
}

func position(node ast.Node) (line, col int) {
	if node == nil || reflect.ValueOf(node).IsNil() {
		return 1, 1
	}
	tk := node.GetToken()
	if tk == nil || tk.Position == nil {
		return 1, 1
	}
	return tk.Position.Line, tk.Position.Column
}

// unwrap strips anchors and tags and resolves aliases (when their targets
// are known: see resolve).
func unwrap(node ast.Node, targets anchors) ast.Node {
	for {
		switch n := node.(type) {
		case *ast.AnchorNode:
			node = n.Value
		case *ast.TagNode:
			node = n.Value
		case *ast.AliasNode:
			target, ok := targets[n]
			if !ok {
				return node
			}
			node = target
		default:
			return node
		}
	}
}

// entries returns the key/value pairs of a map node; ok is false when node
// is not a map. goccy represents a one-key block map as a bare
// MappingValueNode, so both shapes are accepted.
func entries(node ast.Node) (_ []*ast.MappingValueNode, ok bool) {
	switch n := node.(type) {
	case *ast.MappingNode:
		return n.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}, true
	}
	return nil, false
}

func isNull(node ast.Node) bool {
	if node == nil || reflect.ValueOf(node).IsNil() {
		return true
	}
	_, ok := node.(*ast.NullNode)
	return ok
}

func isScalar(node ast.Node) bool {
	switch node.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.LiteralNode,
		*ast.InfinityNode, *ast.NanNode, *ast.NullNode:
		return true
	}
	return false
}

// scalarText is a scalar's value as the admin wrote it (unquoted).
func scalarText(node ast.Node) string {
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value
	case *ast.LiteralNode:
		return n.Value.Value
	case *ast.NullNode:
		return ""
	case nil:
		return ""
	}
	if tk := node.GetToken(); tk != nil {
		return tk.Value
	}
	return node.String()
}

// kindName says what a node is, in admin terms.
func kindName(node ast.Node) string {
	switch node.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a map"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing"
	}
	return fmt.Sprintf("%q", scalarText(node))
}

// yamlKeys lists t's yaml tag names in field order.
func yamlKeys(t reflect.Type) []string {
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, tagName(t.Field(i)))
	}
	return keys
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// walk checks node against Go type t at path.
// walk checks node against the shape of t and reports every key and value of
// the wrong shape. It returns true when node itself has the wrong shape; the
// caller then replaces it with null, so that the typed decode of what remains
// can still go through the semantic checks, and one misplaced value does not
// hide every other problem in the file.
func (d *decoder) walk(node ast.Node, t reflect.Type, path string) (bad bool) {
	node = unwrap(node, d.anchors)
	if isNull(node) || !d.spend(node) {
		return false
	}
	if _, ok := node.(*ast.AliasNode); ok {
		return false // unknown anchor: goccy reports it
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == scalarType:
		if !isScalar(node) {
			d.add(node, path, fmt.Sprintf("`%s` expects a single value, got %s", last(path), kindName(node)),
				"write it on one line, e.g. `"+last(path)+": 30s`")
			return true
		}
	case t == ruleType, t == exampleType:
		// rule.go converts and checks rules and examples.
	case t.Kind() == reflect.Struct:
		values, ok := entries(node)
		if !ok {
			d.add(node, path, fmt.Sprintf("`%s` expects a map of keys, got %s", last(path), kindName(node)),
				"indent its keys under it (key: value), without a leading '- '")
			return true
		}
		keys := yamlKeys(t)
		for _, mv := range values {
			key := scalarText(mv.Key)
			i := slices.Index(keys, key)
			if i < 0 {
				d.unknownKey(mv.Key, join(path, key), key, keys)
				if !isNull(mv.Value) { // never walked, so never decoded either
					mv.Value = ast.Null(mv.Value.GetToken())
				}
				continue
			}
			if d.walk(mv.Value, t.Field(i).Type, join(path, key)) {
				mv.Value = ast.Null(mv.Value.GetToken())
			}
		}
	case t.Kind() == reflect.Slice:
		seq, ok := node.(*ast.SequenceNode)
		if !ok {
			if t.Elem().Kind() == reflect.String && isScalar(node) {
				d.add(node, path, fmt.Sprintf("`%s` expects a list, got %s", last(path), kindName(node)),
					fmt.Sprintf("write `%s: [%s]`", last(path), scalarText(node)))
				return true
			}
			d.add(node, path, fmt.Sprintf("`%s` expects a list, got %s", last(path), kindName(node)),
				"start each item on its own line with '- '")
			return true
		}
		for i, v := range seq.Values {
			if d.walk(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)) {
				seq.Values[i] = ast.Null(v.GetToken())
			}
		}
	case t.Kind() == reflect.Int:
		if _, ok := node.(*ast.IntegerNode); !ok {
			d.add(node, path, fmt.Sprintf("`%s` expects a whole number, got %s", last(path), kindName(node)),
				"write digits, e.g. `"+last(path)+": 50`")
			return true
		}
	case t.Kind() == reflect.String:
		if !isScalar(node) {
			d.add(node, path, fmt.Sprintf("`%s` expects text, got %s", last(path), kindName(node)),
				"write a single value; quote it if it contains ': ' or starts with a special character")
			return true
		}
	}
	return false
}

func (d *decoder) unknownKey(key ast.Node, path, name string, valid []string) {
	if near := closest(name, valid); near != "" {
		d.add(key, path, fmt.Sprintf("unknown key `%s`; did you mean `%s`?", name, near),
			"rename it to `"+near+"`")
		return
	}
	if homes := keyHomes(name, reflect.TypeFor[fileConfig](), ""); len(homes) > 0 {
		d.add(key, path, fmt.Sprintf("unknown key `%s` here", name),
			fmt.Sprintf("`%s` belongs under `%s`; check the indentation", name, strings.Join(homes, "` or `")))
		return
	}
	d.add(key, path, fmt.Sprintf("unknown key `%s`", name),
		"valid keys here: "+strings.Join(valid, ", ")+"; check the indentation if it belongs to another map")
}

// keyHomes lists the maps of the config where key is valid, so a key at the
// wrong indentation can be sent home ("timeout belongs under fetch").
func keyHomes(key string, t reflect.Type, path string) []string {
	var homes []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := tagName(f)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		sub := join(path, name)
		if ft.Kind() == reflect.Slice {
			ft, sub = ft.Elem(), sub+"[]"
		}
		switch {
		case ft == ruleType:
			if slices.Contains(ruleKeys, key) {
				homes = append(homes, sub)
			}
		case ft == exampleType:
			if slices.Contains(exampleKeys, key) {
				homes = append(homes, sub)
			}
		case ft.Kind() == reflect.Struct && ft != scalarType:
			if slices.Contains(yamlKeys(ft), key) {
				homes = append(homes, sub)
			}
			homes = append(homes, keyHomes(key, ft, sub)...)
		}
	}
	return slices.Compact(homes)
}

// join appends key to a YAML path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// last is the final key of path, for messages ("topics[0].limit" → "limit").
func last(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i > 0 {
		path = path[:i]
	}
	if path == "" {
		return "document"
	}
	return path
}

// index maps every YAML path in the document to its value node, so a
// problem found after decoding (a bad duration, a duplicate slug, a topic
// error path) points at its exact line and column.
func (d *decoder) index(node ast.Node, path string, into map[string]ast.Node) {
	node = unwrap(node, d.anchors)
	if !d.spend(node) {
		return
	}
	if isNull(node) {
		if node != nil && !reflect.ValueOf(node).IsNil() {
			into[path] = node
		}
		return
	}
	into[path] = node
	if values, ok := entries(node); ok {
		for _, mv := range values {
			key := join(path, scalarText(mv.Key))
			if isNull(mv.Value) {
				into[key] = mv.Key // point at the key when there is no value
				continue
			}
			d.index(mv.Value, key, into)
		}
		return
	}
	if seq, ok := node.(*ast.SequenceNode); ok {
		for i, v := range seq.Values {
			d.index(v, path+"["+strconv.Itoa(i)+"]", into)
		}
	}
}
