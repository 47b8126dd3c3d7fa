package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/newsdesk/newsdesk/internal/topic"
)

// fields are the story parts a clause's `in` may name.
var fields = []topic.Field{topic.Title, topic.Lead, topic.Summary, topic.Content, topic.Categories,
	topic.Author, topic.SourceName, topic.LinkHost}

// rule converts one clause at path. A bare scalar is a term (a phrase when
// it has spaces); a map holds exactly one of term, regex, any, all or not,
// plus modifiers. It reports every mistake it finds and returns ok=false if
// there were any, so topic.New only sees well-formed rules.
func (d *decoder) rule(node ast.Node, path string) (topic.Rule, bool) {
	node = unwrap(node, d.anchors)
	if !d.spend(node) {
		return topic.Rule{}, false
	}
	if isNull(node) {
		d.add(node, path, fmt.Sprintf("`%s` is empty", clause(path)),
			"give it a word, or a map such as {any: [asylum, deportation]}")
		return topic.Rule{}, false
	}
	if isScalar(node) {
		term := strings.TrimSpace(scalarText(node))
		if term == "" {
			d.add(node, path, fmt.Sprintf("`%s` has an empty term", clause(path)), "write a word or phrase, or remove the item")
			return topic.Rule{}, false
		}
		return topic.Rule{Term: term, Pos: d.pos(node)}, true
	}
	values, isMap := entries(node)
	if !isMap {
		hint := "write a word, or a map such as {any: [word, other word]}"
		if _, isSeq := node.(*ast.SequenceNode); isSeq {
			hint = "to match any of several words, write `" + last(path) + ": {any: [...]}`"
		}
		d.add(node, path, fmt.Sprintf("`%s` expects a word or a map, got %s", last(path), kindName(node)), hint)
		return topic.Rule{}, false
	}
	r := topic.Rule{Pos: d.pos(node)}
	ok := true
	var kinds []string
	for _, mv := range values {
		key := scalarText(mv.Key)
		sub := join(path, key)
		v := unwrap(mv.Value, d.anchors)
		switch key {
		case "term", "regex":
			kinds = append(kinds, key)
			if !isScalar(v) || strings.TrimSpace(scalarText(v)) == "" {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects a non-empty word or pattern, got %s", key, kindName(v)),
					"write `"+key+": text`; quote patterns with single quotes")
				ok = false
				continue
			}
			if key == "term" {
				r.Term = strings.TrimSpace(scalarText(v))
			} else {
				r.Regex = scalarText(v)
			}
		case "case", "exact", "demonyms":
			b, isBool := v.(*ast.BoolNode)
			if !isBool {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects true or false, got %s", key, kindName(v)), boolHints[key])
				ok = false
				continue
			}
			switch key {
			case "case":
				r.Case = b.Value
			case "exact":
				r.Exact = b.Value
			case "demonyms":
				r.NoDemonyms = !b.Value
			}
		case "near", "with":
			if key == "near" {
				kinds = append(kinds, key)
			}
			items, iok := d.terms(v, mv, sub)
			ok = ok && iok
			if key == "near" {
				r.Near = items
			} else {
				r.With = items
			}
		case "within", "min_count", "apart":
			_, isInt := v.(*ast.IntegerNode)
			i, err := strconv.Atoi(strings.ReplaceAll(scalarText(v), "_", ""))
			if !isInt || err != nil || i < 1 {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects a whole number of 1 or more, got %s", key, kindName(v)), intHints[key])
				ok = false
				continue
			}
			switch key {
			case "within":
				r.Within = i
			case "apart":
				r.Apart = i
			default:
				r.MinCount = i
			}
		case "any", "all":
			kinds = append(kinds, key)
			seq, isSeq := v.(*ast.SequenceNode)
			if !isSeq || len(seq.Values) == 0 {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects a non-empty list of clauses, got %s", key, kindName(v)),
					"write `"+key+": [word, {regex: '...'}]` or one clause per line starting with '- '")
				ok = false
				continue
			}
			children := make([]topic.Rule, 0, len(seq.Values))
			for i, c := range seq.Values {
				child, cok := d.rule(c, sub+"["+strconv.Itoa(i)+"]")
				ok = ok && cok
				children = append(children, child)
			}
			if key == "any" {
				r.Any = children
			} else {
				r.All = children
			}
		case "not":
			kinds = append(kinds, key)
			if isNull(v) {
				d.add(mv.Key, sub, "`not` is empty", "give it the clause to exclude, e.g. `not: {term: football}`")
				ok = false
				continue
			}
			child, cok := d.rule(mv.Value, sub)
			ok = ok && cok
			r.Not = &child
		case "in":
			in, iok := d.fields(v, mv, sub)
			ok = ok && iok
			r.In = in
		case "weight", "min_score":
			f, fok := number(v)
			if !fok || f < 0 {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects a number of 0 or more, got %s", key, kindName(v)), "write e.g. `"+key+": 2`")
				ok = false
				continue
			}
			if key == "weight" {
				r.Weight = f
			} else {
				r.MinScore = f
			}
		default:
			d.unknownKey(mv.Key, sub, key, ruleKeys)
			ok = false
		}
	}
	switch {
	case len(kinds) == 0 && ok:
		d.add(node, path, fmt.Sprintf("`%s` has none of term, regex, near, any, all or not", clause(path)),
			"give it one of term, regex, near, any, all or not, e.g. {any: [asylum, deportation]}")
		ok = false
	case len(kinds) > 1:
		d.add(node, path, fmt.Sprintf("`%s` mixes %s in one clause", clause(path), strings.Join(kinds, " and ")),
			"put them in a list: {all: [...]} to require each, {any: [...]} to accept either")
		ok = false
	}
	return r, ok
}

var boolHints = map[string]string{
	"case":     "write `case: true` for a case-sensitive match",
	"exact":    "write `exact: true` to match the words as written, without word forms",
	"demonyms": "write `demonyms: false` so a place name does not also match its adjective and demonym",
}

var intHints = map[string]string{
	"within":    "write e.g. `within: 8`: how many words apart the two sides may be",
	"min_count": "write e.g. `min_count: 2`: how many times the term (or the words of an any) must occur",
	"apart":     "write e.g. `apart: 20`: how many words a place of a min_count any needs after the last one counted",
}

// terms converts one side of a near clause: a list of terms (or one), each
// a word or phrase or a {term: ...} map.
func (d *decoder) terms(v ast.Node, mv *ast.MappingValueNode, path string) ([]topic.Rule, bool) {
	var items []ast.Node
	switch n := v.(type) {
	case *ast.SequenceNode:
		items = n.Values
	default:
		if isScalar(v) && !isNull(v) {
			items = []ast.Node{v}
		} else if _, isMap := entries(v); isMap {
			items = []ast.Node{v}
		}
	}
	if len(items) == 0 {
		d.add(keyOr(v, mv), path, fmt.Sprintf("`%s` expects a list of words or phrases, got %s", last(path), kindName(v)),
			"write e.g. `near: [ICE]` and `with: [agents, raid*, detained]`")
		return nil, false
	}
	ok := true
	out := make([]topic.Rule, 0, len(items))
	for i, item := range items {
		r, rok := d.rule(item, fmt.Sprintf("%s[%d]", path, i))
		ok = ok && rok
		out = append(out, r)
	}
	return out, ok
}

// pos is where node is written, "file:line:col", for explanations: a map's
// first key, where an editor sees the clause begin.
func (d *decoder) pos(node ast.Node) string {
	if values, ok := entries(node); ok && len(values) > 0 {
		node = values[0].Key
	}
	line, col := position(node)
	return fmt.Sprintf("%s:%d:%d", d.file, line, col)
}

// example converts one example story: a title, or a map of title, summary,
// categories and link.
func (d *decoder) example(node ast.Node, path string) (topic.Example, bool) {
	node = unwrap(node, d.anchors)
	if !d.spend(node) {
		return topic.Example{}, false
	}
	x := topic.Example{Pos: d.pos(node)}
	if isScalar(node) && !isNull(node) {
		x.Title = strings.TrimSpace(scalarText(node))
		return x, true
	}
	values, isMap := entries(node)
	if !isMap {
		d.add(node, path, fmt.Sprintf("an example is a title or a map, got %s", kindName(node)),
			"write `- Asylum claims rise` or `- {title: ..., summary: ...}`")
		return x, false
	}
	ok := true
	for _, mv := range values {
		key := scalarText(mv.Key)
		sub := join(path, key)
		v := unwrap(mv.Value, d.anchors)
		switch key {
		case "title", "summary", "link":
			if !isScalar(v) {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects text, got %s", key, kindName(v)), "quote it if it contains ': '")
				ok = false
				continue
			}
			switch key {
			case "title":
				x.Title = strings.TrimSpace(scalarText(v))
			case "summary":
				x.Summary = strings.TrimSpace(scalarText(v))
			case "link":
				x.Link = strings.TrimSpace(scalarText(v))
			}
		case "categories":
			seq, isSeq := v.(*ast.SequenceNode)
			if !isSeq {
				d.add(keyOr(v, mv), sub, "`categories` expects a list, got "+kindName(v), "write `categories: [Politics, Immigration]`")
				ok = false
				continue
			}
			for _, c := range seq.Values {
				x.Categories = append(x.Categories, scalarText(unwrap(c, d.anchors)))
			}
		default:
			d.unknownKey(mv.Key, sub, key, exampleKeys)
			ok = false
		}
	}
	if ok && x.Title == "" {
		d.add(node, path, "the example has no `title`", "write the headline: `title: Asylum claims rise`")
		ok = false
	}
	return x, ok
}

// fields converts an `in` list (or a single field name).
func (d *decoder) fields(v ast.Node, mv *ast.MappingValueNode, path string) ([]topic.Field, bool) {
	var items []ast.Node
	switch n := v.(type) {
	case *ast.SequenceNode:
		items = n.Values
	default:
		if isScalar(v) && !isNull(v) {
			items = []ast.Node{v}
		}
	}
	valid := make([]string, len(fields))
	for i, f := range fields {
		valid[i] = string(f)
	}
	if len(items) == 0 {
		d.add(keyOr(v, mv), path, "`in` expects a list of story fields, got "+kindName(v), "write e.g. `in: [title, summary]`; fields: "+strings.Join(valid, ", "))
		return nil, false
	}
	ok := true
	var in []topic.Field
	for i, item := range items {
		name := scalarText(unwrap(item, d.anchors))
		if !slices.Contains(valid, name) {
			hint := "fields: " + strings.Join(valid, ", ")
			if near := closest(name, valid); near != "" {
				hint = "did you mean `" + near + "`? " + hint
			}
			d.add(item, fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("`in` names unknown story field %q", name), hint)
			ok = false
			continue
		}
		in = append(in, topic.Field(name))
	}
	return in, ok
}

// keyOr points at the value, or at the key when the value is missing.
func keyOr(v ast.Node, mv *ast.MappingValueNode) ast.Node {
	if isNull(v) {
		return mv.Key
	}
	return v
}

func number(node ast.Node) (float64, bool) {
	switch node.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		f, err := strconv.ParseFloat(strings.ReplaceAll(scalarText(node), "_", ""), 64)
		return f, err == nil
	}
	return 0, false
}

// clause names a rule clause by its last path step, index included
// ("any[2]"), so the message says which item of a list is wrong.
func clause(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}
