package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsdesk/newsdesk/internal/story"
)

// state is the collector of what is read at scrape time rather than
// counted as it happens: the store's size, each topic's stories and each
// source's health. Reading it costs O(topics + sources) cheap calls.
type state struct{ m *Metrics }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

var (
	storeSize       = desc("store_size_bytes", "Bytes the store occupies on disk (bbolt: the file).")
	storeFree       = desc("store_free_bytes", "Bytes in the store's free pages: about what `newsdesk compact` would give back.")
	storeFreePages  = desc("store_free_pages", "Free pages in the store file (bbolt).")
	storeStories    = desc("store_stories", "Stories stored, duplicates of other sources' copies included.")
	storeTombstones = desc("store_tombstones", "Ids of pruned stories remembered so an upstream cannot bring them back.")
	topicStories    = desc("topic_stories", "Stories listed in a topic's feed index.", "topic")
	topicNewest     = desc("topic_newest_story_timestamp_seconds", "Publication time of a topic's newest story, in Unix seconds.", "topic")
	sourceUp        = desc("source_up", "1 when a source's last refresh succeeded (ok or not-modified), else 0; absent before its first refresh.", "source")
	sourceStatus    = desc("source_status", "Always 1, for the source's current status word (ok, not-modified, failing, blocked, gone, refused).", "source", "status")
	sourceFailures  = desc("source_consecutive_failures", "Failed refreshes of a source since its last success.", "source")
	sourceSuccess   = desc("source_last_success_timestamp_seconds", "When a source last answered well, in Unix seconds; absent if it never has.", "source")
)

func (s *state) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{storeSize, storeFree, storeFreePages, storeStories, storeTombstones,
		topicStories, topicNewest, sourceUp, sourceStatus, sourceFailures, sourceSuccess} {
		ch <- d
	}
}

func (s *state) Collect(ch chan<- prometheus.Metric) {
	o := s.m.opts
	ctx, cancel := context.WithTimeout(context.Background(), o.ScrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if o.Store != nil {
		if st, err := o.Store.Stats(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(storeStories, err)
		} else {
			gauge(storeSize, float64(st.FileSize))
			gauge(storeFree, float64(st.FreeBytes))
			gauge(storeFreePages, float64(st.FreePages))
			gauge(storeStories, float64(st.Stories))
			gauge(storeTombstones, float64(st.Tombstones))
		}
		if o.Topics != nil {
			for _, slug := range o.Topics() {
				info, err := o.Store.Topic(ctx, slug)
				if err != nil {
					ch <- prometheus.NewInvalidMetric(topicStories, err)
					break
				}
				gauge(topicStories, float64(info.Count), slug)
				if !info.Newest.IsZero() {
					gauge(topicNewest, float64(info.Newest.Unix()), slug)
				}
			}
		}
	}
	if o.Sources == nil {
		return
	}
	states, err := o.Sources(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(sourceUp, err)
		return
	}
	for name, st := range states {
		if st.Status == "" {
			continue // never fetched: no state to report
		}
		up := 0.0
		if st.Status == story.StatusOK || st.Status == story.StatusNotModified {
			up = 1
		}
		gauge(sourceUp, up, name)
		gauge(sourceStatus, 1, name, string(st.Status))
		gauge(sourceFailures, float64(st.Failures), name)
		if !st.LastSuccess.IsZero() {
			gauge(sourceSuccess, float64(st.LastSuccess.Unix()), name)
		}
	}
}
