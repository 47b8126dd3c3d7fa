<?xml version="1.0" encoding="UTF-8"?>
<!-- How a browser shows a newsdesk feed: the feed's RSS or Atom, read as a
     page. Feed readers never apply it. XSLT 1.0, the version browsers run. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"
  exclude-result-prefixes="atom media">
<xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

<xsl:variable name="site">{{xml .SiteTitle}}</xsl:variable>
<xsl:variable name="home">{{xml .Home}}</xsl:variable>
<xsl:variable name="opml">{{xml .OPML}}</xsl:variable>

<xsl:template match="/">
  <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
  <xsl:variable name="self" select="rss/channel/atom:link[@rel='self']/@href | atom:feed/atom:link[@rel='self']/@href"/>
  <xsl:variable name="page" select="rss/channel/link | atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="kind"><xsl:choose><xsl:when test="atom:feed">Atom</xsl:when><xsl:otherwise>RSS</xsl:otherwise></xsl:choose></xsl:variable>
  <html lang="{rss/channel/language | atom:feed/@xml:lang}">
  <head>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1"/>
    <meta name="robots" content="noindex"/>
    <title><xsl:value-of select="$title"/> (<xsl:value-of select="$kind"/> feed) · <xsl:value-of select="$site"/></title>
    <link rel="icon" href="{{xml .Icon}}" type="image/svg+xml"/>
    <style>{{xml .CSS}}</style>
  </head>
  <body>
    <header class="bar"><div class="wrap">
      <a class="brand" href="{$home}">{{.Logo}}<span><xsl:value-of select="$site"/></span></a>
      <nav><a href="{$home}">Topics</a><a href="{$opml}">All feeds (OPML)</a></nav>
    </div></header>
    <main>
      <section class="head wrap">
        <p class="kicker">Web feed · <xsl:value-of select="$kind"/></p>
        <h1><xsl:value-of select="$title"/></h1>
        <p class="lede"><xsl:value-of select="rss/channel/description | atom:feed/atom:subtitle"/></p>
        <div class="panel" id="subscribe">
          <p><strong>This is a web feed.</strong> To follow it, copy its address into your feed reader (NetNewsWire, Feedly, Inoreader, Thunderbird, Outlook…); new stories then reach you as they are published.</p>
          <code class="feedurl"><xsl:value-of select="$self"/></code>
          <p class="subscribe"><a href="{$page}">Read this topic on the web</a><a href="{$home}">All topics</a></p>
        </div>
      </section>
      <section class="wrap stories">
        <h2 class="kicker">Latest stories</h2>
        <xsl:for-each select="rss/channel/item | atom:feed/atom:entry">
          <xsl:variable name="link" select="link | atom:link[@rel='alternate']/@href"/>
          <article class="story">
            <div class="text">
              <h2><xsl:choose>
                <xsl:when test="$link"><a href="{$link}"><xsl:value-of select="title | atom:title"/></a></xsl:when>
                <xsl:otherwise><xsl:value-of select="title | atom:title"/></xsl:otherwise>
              </xsl:choose></h2>
              <p class="meta">
                <xsl:if test="source | atom:source/atom:title"><span class="source"><xsl:value-of select="source | atom:source/atom:title"/></span> · </xsl:if>
                <xsl:choose>
                  <xsl:when test="pubDate"><xsl:call-template name="rfc822"><xsl:with-param name="d" select="pubDate"/></xsl:call-template></xsl:when>
                  <xsl:when test="atom:published"><xsl:call-template name="rfc3339"><xsl:with-param name="d" select="atom:published"/></xsl:call-template></xsl:when>
                  <xsl:when test="atom:updated"><xsl:call-template name="rfc3339"><xsl:with-param name="d" select="atom:updated"/></xsl:call-template></xsl:when>
                </xsl:choose>
              </p>
              <xsl:variable name="html" select="(description | atom:summary | atom:content)[1]"/>
              <xsl:if test="$html">
                <xsl:variable name="text"><xsl:call-template name="plain"><xsl:with-param name="html" select="substring($html, 1, 1500)"/></xsl:call-template></xsl:variable>
                <xsl:variable name="clean" select="normalize-space($text)"/>
                <p class="summary"><xsl:choose>
                  <xsl:when test="string-length($clean) &gt; 300"><xsl:value-of select="substring($clean, 1, 300)"/>…</xsl:when>
                  <xsl:otherwise><xsl:value-of select="$clean"/></xsl:otherwise>
                </xsl:choose></p>
              </xsl:if>
            </div>
            <xsl:if test="media:thumbnail/@url"><img class="thumb" src="{media:thumbnail/@url}" alt="" loading="lazy" referrerpolicy="no-referrer"/></xsl:if>
          </article>
        </xsl:for-each>
        <xsl:if test="not(rss/channel/item | atom:feed/atom:entry)"><p class="empty">No stories yet.</p></xsl:if>
      </section>
    </main>
    <footer><div class="wrap"><a href="{$home}"><xsl:value-of select="$site"/></a><a href="{$opml}">All feeds (OPML)</a><span>This page is the feed itself, styled for reading: feed readers see plain <xsl:value-of select="$kind"/>.</span></div></footer>
  </body>
  </html>
</xsl:template>

<!-- "Fri, 20 Nov 2026 09:30:00 +0000" as "20 Nov 2026 09:30 UTC": newsdesk
     writes every date in UTC. -->
<xsl:template name="rfc822">
  <xsl:param name="d"/>
  <time><xsl:value-of select="concat(number(substring($d, 6, 2)), substring($d, 8, 9), ' ', substring($d, 18, 5), ' UTC')"/></time>
</xsl:template>

<!-- "2026-11-20T09:30:00Z" as "20 Nov 2026 09:30 UTC". -->
<xsl:template name="rfc3339">
  <xsl:param name="d"/>
  <xsl:variable name="m" select="number(substring($d, 6, 2))"/>
  <time datetime="{$d}"><xsl:value-of select="concat(number(substring($d, 9, 2)), ' ', substring('JanFebMarAprMayJunJulAugSepOctNovDec', 3 * $m - 2, 3), ' ', substring($d, 1, 4), ' ', substring($d, 12, 5), ' UTC')"/></time>
</xsl:template>

<!-- The text of an HTML fragment: tags dropped, the entities sanitized
     HTML uses decoded. Recursion is bounded by the 1500 characters the
     caller passes. -->
<xsl:template name="plain">
  <xsl:param name="html"/>
  <xsl:choose>
    <xsl:when test="contains($html, '&lt;')">
      <xsl:call-template name="entities"><xsl:with-param name="s" select="substring-before($html, '&lt;')"/></xsl:call-template>
      <xsl:text> </xsl:text>
      <xsl:call-template name="plain"><xsl:with-param name="html" select="substring-after(substring-after($html, '&lt;'), '&gt;')"/></xsl:call-template>
    </xsl:when>
    <xsl:otherwise><xsl:call-template name="entities"><xsl:with-param name="s" select="$html"/></xsl:call-template></xsl:otherwise>
  </xsl:choose>
</xsl:template>

<xsl:template name="entities">
  <xsl:param name="s"/>
  <xsl:choose>
    <xsl:when test="contains($s, '&amp;')">
      <xsl:value-of select="substring-before($s, '&amp;')"/>
      <xsl:variable name="rest" select="substring-after($s, '&amp;')"/>
      <xsl:choose>
        <xsl:when test="starts-with($rest, 'amp;')">&amp;<xsl:call-template name="entities"><xsl:with-param name="s" select="substring($rest, 5)"/></xsl:call-template></xsl:when>
        <xsl:when test="starts-with($rest, 'lt;')">&lt;<xsl:call-template name="entities"><xsl:with-param name="s" select="substring($rest, 4)"/></xsl:call-template></xsl:when>
        <xsl:when test="starts-with($rest, 'gt;')">&gt;<xsl:call-template name="entities"><xsl:with-param name="s" select="substring($rest, 4)"/></xsl:call-template></xsl:when>
        <xsl:when test="starts-with($rest, 'quot;')">"<xsl:call-template name="entities"><xsl:with-param name="s" select="substring($rest, 6)"/></xsl:call-template></xsl:when>
        <xsl:when test="starts-with($rest, '#39;')">'<xsl:call-template name="entities"><xsl:with-param name="s" select="substring($rest, 5)"/></xsl:call-template></xsl:when>
        <xsl:when test="starts-with($rest, 'nbsp;')"><xsl:text> </xsl:text><xsl:call-template name="entities"><xsl:with-param name="s" select="substring($rest, 6)"/></xsl:call-template></xsl:when>
        <xsl:otherwise>&amp;<xsl:call-template name="entities"><xsl:with-param name="s" select="$rest"/></xsl:call-template></xsl:otherwise>
      </xsl:choose>
    </xsl:when>
    <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
  </xsl:choose>
</xsl:template>
</xsl:stylesheet>
