package feedcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The keys JSON Feed 1.1 defines; any other key must start with "_".
var (
	jsonFeedKeys = []string{"version", "title", "home_page_url", "feed_url", "description", "user_comment",
		"next_url", "icon", "favicon", "author", "authors", "language", "expired", "hubs", "items"}
	jsonItemKeys = []string{"id", "url", "external_url", "title", "content_html", "content_text", "summary",
		"image", "banner_image", "date_published", "date_modified", "author", "authors", "tags", "language",
		"attachments"}
)

// tag matches something that looks like an HTML tag in a plain-text field.
var tag = regexp.MustCompile(`<[A-Za-z/!][^<>]*>`)

// JSONFeed checks a JSON Feed 1.1 document, from the spec text (there is no
// official schema): version; title; items present and an array; each item
// with a non-empty string id and content_html or content_text; RFC 3339
// dates; attachments with url and mime_type; unknown keys starting with "_";
// next_url different from feed_url; no tags in title, summary or content_text.
func JSONFeed(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var feed map[string]any
	if err := dec.Decode(&feed); err != nil {
		return Problems{"not a JSON object: " + err.Error()}
	}
	var p Problems
	if dec.More() {
		p.add("trailing data after the feed object")
	}
	if v, _ := feed["version"].(string); v != "https://jsonfeed.org/version/1.1" {
		p.add("version is %q, want \"https://jsonfeed.org/version/1.1\"", v)
	}
	if t, ok := feed["title"].(string); !ok || t == "" {
		p.add("title is missing or not a non-empty string")
	}
	unknownKeys(&p, "feed", feed, jsonFeedKeys)
	plainText(&p, "feed", feed, "title", "description")
	if next, ok := feed["next_url"].(string); ok && next == feed["feed_url"] {
		p.add("next_url equals feed_url")
	}
	if _, ok := feed["author"]; ok {
		p.add("feed uses the deprecated author; use authors")
	}
	checkAuthors(&p, "feed", feed["authors"])
	if hubs, ok := feed["hubs"]; ok {
		list, ok := hubs.([]any)
		if !ok {
			p.add("hubs is not an array")
		}
		for _, h := range list {
			hub, _ := h.(map[string]any)
			if s, _ := hub["type"].(string); s == "" {
				p.add("hub has no type")
			}
			if s, _ := hub["url"].(string); s == "" {
				p.add("hub has no url")
			}
		}
	}
	items, ok := feed["items"].([]any)
	if !ok {
		p.add("items is missing or not an array (required, even when empty)")
	}
	for i, v := range items {
		item, ok := v.(map[string]any)
		if !ok {
			p.add("item %d is not an object", i+1)
			continue
		}
		checkJSONItem(&p, itemName(i, item), item)
	}
	return p.err()
}

func itemName(i int, item map[string]any) string {
	if id, ok := item["id"].(string); ok && id != "" {
		return "item " + id
	}
	return fmt.Sprintf("item %d", i+1) // no id to name it by
}

func checkJSONItem(p *Problems, where string, item map[string]any) {
	if id, ok := item["id"].(string); !ok || id == "" {
		p.add("%s: id is missing or not a non-empty string", where)
	}
	_, html := item["content_html"].(string)
	_, text := item["content_text"].(string)
	if !html && !text {
		p.add("%s: has neither content_html nor content_text", where)
	}
	unknownKeys(p, where, item, jsonItemKeys)
	plainText(p, where, item, "title", "summary", "content_text")
	for _, key := range []string{"date_published", "date_modified"} {
		if v, ok := item[key]; ok {
			s, _ := v.(string)
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				p.add("%s: %s %v is not an RFC 3339 date", where, key, v)
			}
		}
	}
	if _, ok := item["author"]; ok {
		p.add("%s: uses the deprecated author; use authors", where)
	}
	checkAuthors(p, where, item["authors"])
	if tags, ok := item["tags"]; ok {
		list, ok := tags.([]any)
		if !ok {
			p.add("%s: tags is not an array", where)
		}
		for _, t := range list {
			if _, ok := t.(string); !ok {
				p.add("%s: tag %v is not a string", where, t)
			}
		}
	}
	if atts, ok := item["attachments"]; ok {
		list, ok := atts.([]any)
		if !ok {
			p.add("%s: attachments is not an array", where)
		}
		for _, a := range list {
			att, _ := a.(map[string]any)
			if s, _ := att["url"].(string); s == "" {
				p.add("%s: attachment has no url", where)
			}
			if s, _ := att["mime_type"].(string); !strings.Contains(s, "/") {
				p.add("%s: attachment has no mime_type", where)
			}
			if n, ok := att["size_in_bytes"]; ok {
				if num, isNum := n.(json.Number); !isNum || strings.ContainsAny(num.String(), ".-eE") {
					p.add("%s: attachment size_in_bytes %v is not a whole number", where, n)
				}
			}
		}
	}
}

func checkAuthors(p *Problems, where string, v any) {
	if v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		p.add("%s: authors is not an array", where)
		return
	}
	for _, a := range list {
		author, _ := a.(map[string]any)
		name, _ := author["name"].(string)
		url, _ := author["url"].(string)
		avatar, _ := author["avatar"].(string)
		if name == "" && url == "" && avatar == "" {
			p.add("%s: an author needs a name, url or avatar", where)
		}
	}
}

func unknownKeys(p *Problems, where string, obj map[string]any, known []string) {
	var bad []string
	for k := range obj {
		if !slices.Contains(known, k) && !(len(k) > 1 && k[0] == '_') {
			bad = append(bad, k)
		}
	}
	slices.Sort(bad)
	for _, k := range bad {
		p.add("%s: unknown key %q (extensions start with \"_\")", where, k)
	}
}

func plainText(p *Problems, where string, obj map[string]any, keys ...string) {
	for _, k := range keys {
		if s, ok := obj[k].(string); ok && tag.MatchString(s) {
			p.add("%s: %s is plain text but contains markup %q", where, k, tag.FindString(s))
		}
	}
}
