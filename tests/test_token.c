#include <stdlib.h>

#include "test.h"
#include "token.h"

/* Collects tokens as "term term ..." plus their flags. */
typedef struct toks {
    char s[1024];
    int flags[64];
    uint32_t pos[64];
    int n;
} toks;

static void collect(void *ctx, const char *term, size_t len, uint32_t pos, int flags) {
    toks *t = ctx;
    size_t l = strlen(t->s);
    if (l && l + 1 < sizeof t->s) t->s[l++] = ' ';
    if (l + len < sizeof t->s) {
        memcpy(t->s + l, term, len);
        t->s[l + len] = 0;
    }
    if (t->n < 64) {
        t->flags[t->n] = flags;
        t->pos[t->n] = pos;
    }
    t->n++;
}

static const char *tok(toks *t, const char *text) {
    memset(t, 0, sizeof *t);
    uint32_t n = mn_token_each(text, strlen(text), collect, t);
    if ((int)n != t->n) return "(count mismatch)";
    return t->s;
}

void test_token__splits_words_and_lowercases(void) {
    toks t;
    CHECK_STR(tok(&t, "Hello, WORLD!  foo_bar 42x"), "hello world foo bar 42x");
    CHECK_INT(t.pos[3], 3);
    CHECK_STR(tok(&t, ""), "");
    CHECK_STR(tok(&t, "  ,;- "), "");
    CHECK_INT(mn_token_each("a b c", 5, NULL, NULL), 3);
}

void test_token__stems_plural_and_ing(void) {
    toks t;
    CHECK_STR(tok(&t, "prefer prefers preferred preferring preference preferences"),
              "prefer prefer prefer prefer prefer prefer");
    CHECK_STR(tok(&t, "run running runs"), "run run run");
    CHECK_STR(tok(&t, "cities city"), "citi citi");
    CHECK_STR(tok(&t, "hoping hoped hope"), "hope hope hope");
    CHECK_STR(tok(&t, "quickly quick"), "quick quick");
    CHECK_STR(tok(&t, "information informed inform"), "inform inform inform");
    CHECK_STR(tok(&t, "happiness happy"), "happi happi");
    CHECK_STR(tok(&t, "classes class"), "class class");
    CHECK_STR(tok(&t, "recommendations recommendation recommended"),
              "recommend recommend recommend");
}

void test_token__leaves_short_words_and_numbers_unstemmed(void) {
    toks t;
    CHECK_STR(tok(&t, "was bus ran 1990s 2024 mp3s"), "was bus ran 1990s 2024 mp3s");
    CHECK_INT(t.flags[4] & MN_TOK_NUMBER, MN_TOK_NUMBER);
    CHECK_INT(t.flags[3] & MN_TOK_NUMBER, 0);
}

void test_token__drops_apostrophes_and_possessives(void) {
    toks t;
    CHECK_STR(tok(&t, "don't user's users' Sarah\xE2\x80\x99s isn\xE2\x80\x99t 'quoted'"),
              "dont user user sarah isnt quot");
    CHECK_INT(t.flags[0] & MN_TOK_STOP, MN_TOK_STOP);
    CHECK_INT(t.flags[4] & MN_TOK_STOP, MN_TOK_STOP);
}

void test_token__flags_stop_capitals_and_sentence_starts(void) {
    toks t;
    CHECK_STR(tok(&t, "What did I tell Alice? Paris is nice.\nthen 7"),
              "what did i tell alic pari is nice then 7");
    CHECK_INT(t.flags[0], MN_TOK_STOP | MN_TOK_CAPITALIZED | MN_TOK_SENTENCE_START);
    CHECK_INT(t.flags[1], MN_TOK_STOP);
    CHECK_INT(t.flags[2], MN_TOK_STOP | MN_TOK_CAPITALIZED);
    CHECK_INT(t.flags[4], MN_TOK_CAPITALIZED);
    CHECK_INT(t.flags[5], MN_TOK_CAPITALIZED | MN_TOK_SENTENCE_START);
    CHECK_INT(t.flags[7], 0);
    CHECK_INT(t.flags[8], MN_TOK_STOP | MN_TOK_SENTENCE_START);
    CHECK_INT(t.flags[9], MN_TOK_NUMBER);
}

/* The raw list the stop table in token.c was generated from: after a change
** to the stemmer, every one of these must still be found. */
static const char *const raw_stops[] = {
"a", "about", "above", "after", "again", "against", "all", "also", "am", "an",
"and", "any", "are", "arent", "as", "at", "be", "because", "been", "before",
"being", "below", "between", "both", "but", "by", "can", "cannot", "cant",
"could", "couldnt", "did", "didnt", "do", "does", "doesnt", "doing", "dont",
"down", "during", "each", "ever", "few", "for", "from", "further", "get",
"gets", "got", "had", "hadnt", "has", "hasnt", "have", "havent", "having",
"he", "her", "here", "hers", "herself", "hi", "him", "himself", "his", "how",
"i", "if", "im", "in", "into", "is", "isnt", "it", "its", "itself", "ive",
"just", "me", "might", "more", "most", "much", "must", "my", "myself", "no",
"nor", "not", "now", "of", "off", "ok", "okay", "on", "once", "only", "or",
"other", "others", "our", "ours", "ourselves", "out", "over", "own", "please",
"same", "shall", "she", "should", "shouldnt", "so", "some", "such", "than",
"that", "thats", "the", "their", "theirs", "them", "themselves", "then",
"there", "theres", "these", "they", "theyre", "this", "those", "through", "to",
"too", "under", "until", "up", "very", "was", "wasnt", "we", "were", "werent",
"what", "whats", "when", "where", "which", "while", "who", "whom", "why",
"will", "with", "wont", "would", "wouldnt", "yeah", "yes", "you", "youre",
"youve", "your", "yours", "yourself", "yourselves", "may", "would", "shall",
"been", "am", "let", "lets", "thus", "whose", "within", "without",
"via", "per", "upon", "yet", "etc", "an", "tell", "told", "remind", "recall",
"remember", "mentioned", "mention", "said", "say", "anything", "something",
"thing", "things", "kind", "sort", "really", "actually", "hey", "hello",
"thanks", "thank", "sure", "ago", "previously", "earlier", "before"
};

void test_token__finds_every_stop_word(void) {
    toks t;
    for (size_t i = 0; i < sizeof raw_stops / sizeof raw_stops[0]; i++) {
        tok(&t, raw_stops[i]);
        CHECK_INT(t.n, 1);
        if (!(t.flags[0] & MN_TOK_STOP)) fprintf(stderr, "  not a stop word: %s\n", raw_stops[i]);
        CHECK(t.flags[0] & MN_TOK_STOP);
    }
    CHECK(mn_token_is_stop("the", 3));
    CHECK(!mn_token_is_stop("thee", 4));
    CHECK(!mn_token_is_stop("jazz", 4));
    CHECK(!mn_token_is_stop("", 0));
    CHECK(!mn_token_is_stop("a", 0));
}

void test_token__keeps_utf8_words_whole(void) {
    toks t;
    CHECK_STR(tok(&t, "caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC\xE2\x80\x94Tokyo na\xC3\xAFve\xC2\xA0x"),
              "caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC tokyo na\xC3\xAFve x");
}

void test_token__cuts_long_words_on_a_character_boundary(void) {
    toks t;
    char w[80];
    memset(w, 'x', 40);
    w[40] = 0;
    tok(&t, w);
    CHECK_INT(strlen(t.s), MN_TOKEN_MAX);
    CHECK_INT(t.n, 1);
    /* 31 ASCII bytes then a 2-byte letter: the letter does not fit whole. */
    memset(w, 'y', 31);
    memcpy(w + 31, "\xC3\xA9zz end", 9);
    tok(&t, w);
    CHECK_INT(t.n, 2);
    CHECK_INT(strchr(t.s, ' ') - t.s, 31);
    CHECK_STR(strchr(t.s, ' ') + 1, "end");
}

void test_token__hashes_with_fnv1a(void) {
    CHECK(mn_token_hash("", 0) == 0xcbf29ce484222325u);
    CHECK(mn_token_hash("a", 1) == 0xaf63dc4c8601ec8cu);
    CHECK(mn_token_hash("foobar", 6) == 0x85944171f73967e8u);
}
