/*
** token.c: words, stems and stop words (contract in token.h).
**
** The stemmer is a trimmed Porter (1980) stemmer: steps 1a-1c, the common
** derivational suffixes of steps 2-4 and the final-e rules of step 5, plus
** "-ly" and "-est". Porter's measure m (the number of vowel-consonant runs in
** the stem) is what keeps short words whole: "prefer" keeps its "-er" (m = 1)
** while "preference" loses its "-ence" (m = 2), so the whole family meets at
** "prefer". Consistency matters more than linguistics: a query and a memory
** only have to agree, and both go through this one function.
*/
#include <string.h>

#include "token.h"

/* --- the stemmer (w holds lower-case ASCII letters only) ------------------ */

static int is_cons(const char *w, int i) {
    switch (w[i]) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return 0;
    case 'y': return i == 0 ? 1 : !is_cons(w, i - 1);
    default: return 1;
    }
}

/* Porter's m: the number of VC sequences in w[0..j). */
static int measure(const char *w, int j) {
    int i = 0, m = 0;
    while (i < j && is_cons(w, i)) i++;
    for (;;) {
        while (i < j && !is_cons(w, i)) i++;
        if (i >= j) return m;
        while (i < j && is_cons(w, i)) i++;
        m++;
    }
}

static int has_vowel(const char *w, int j) {
    for (int i = 0; i < j; i++)
        if (!is_cons(w, i)) return 1;
    return 0;
}

/* consonant-vowel-consonant ending at j-1, the last not w, x or y ("hop"):
** such short stems get their "e" back ("hoping" -> "hope"). */
static int cvc(const char *w, int j) {
    if (j < 3 || !is_cons(w, j - 1) || is_cons(w, j - 2) || !is_cons(w, j - 3))
        return 0;
    char c = w[j - 1];
    return c != 'w' && c != 'x' && c != 'y';
}

/* w[0..k) ends with s (sl bytes) and keeps at least one byte before it.
** A byte loop from the end: suffixes are short and most fail at once. */
static int ends(const char *w, int k, const char *s, int sl) {
    if (k <= sl) return 0;
    for (int i = 1; i <= sl; i++)
        if (w[k - i] != s[sl - i]) return 0;
    return 1;
}

typedef struct rule {
    const char *suf, *rep;
    signed char sl, rl, min_m; /* min_m: the stem's measure must exceed it */
} rule;

#define R(s, r, m) {s, r, sizeof s - 1, sizeof r - 1, m}
/* Steps 2 and 3 (m > 0), then "-ly" for stems of 4+ letters (set apart). */
static const rule step23[] = {
    R("ational", "ate", 0), R("tional", "tion", 0), R("enci", "ence", 0),
    R("anci", "ance", 0),   R("izer", "ize", 0),    R("bli", "ble", 0),
    R("alli", "al", 0),     R("entli", "ent", 0),   R("eli", "e", 0),
    R("ousli", "ous", 0),   R("ization", "ize", 0), R("ation", "ate", 0),
    R("ator", "ate", 0),    R("alism", "al", 0),    R("iveness", "ive", 0),
    R("fulness", "ful", 0), R("ousness", "ous", 0), R("aliti", "al", 0),
    R("iviti", "ive", 0),   R("biliti", "ble", 0),  R("icate", "ic", 0),
    R("ative", "", 0),      R("alize", "al", 0),    R("iciti", "ic", 0),
    R("ical", "ic", 0),     R("ful", "", 0),        R("ness", "", 0),
};
/* Step 4 (m > 1); longer suffixes first where one ends another. */
static const rule step4[] = {
    R("al", "", 1),   R("ance", "", 1), R("ence", "", 1), R("er", "", 1),
    R("ic", "", 1),   R("able", "", 1), R("ible", "", 1), R("ant", "", 1),
    R("ement", "", 1), R("ment", "", 1), R("ent", "", 1), R("ion", "", 1),
    R("ou", "", 1),   R("ism", "", 1),  R("ate", "", 1),  R("iti", "", 1),
    R("ous", "", 1),  R("ive", "", 1),  R("ize", "", 1),  R("est", "", 1),
};
#undef R

/* Applies the first rule whose suffix matches (Porter: a match whose stem is
** too short still ends the step). Returns 1 when a suffix matched. */
static int apply(char *w, int *k, const rule *rs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const rule *r = &rs[i];
        if (!ends(w, *k, r->suf, r->sl)) continue;
        int j = *k - r->sl;
        if (measure(w, j) <= r->min_m) return 1;
        /* "-ion" only after s or t ("adoption", not "onion"). */
        if (r->suf[0] == 'i' && r->sl == 3 && r->suf[1] == 'o' &&
            w[j - 1] != 's' && w[j - 1] != 't')
            return 1;
        memcpy(w + j, r->rep, (size_t)r->rl);
        *k = j + r->rl;
        return 1;
    }
    return 0;
}

/* Stems w[0..k) in place; the result is never longer. */
static int stem(char *w, int k) {
    /* 1a: plurals. */
    if (w[k - 1] == 's') {
        if (ends(w, k, "sses", 4) || ends(w, k, "ies", 3)) k -= 2;
        else if (w[k - 2] != 's') k -= 1;
    }
    /* 1b: -ed, -ing, undoing what they did to the stem. */
    if (ends(w, k, "eed", 3)) {
        if (measure(w, k - 3) > 0) k -= 1;
    } else {
        int j = ends(w, k, "ed", 2) ? k - 2 : ends(w, k, "ing", 3) ? k - 3 : -1;
        if (j > 0 && has_vowel(w, j)) {
            k = j;
            if (ends(w, k, "at", 2) || ends(w, k, "bl", 2) || ends(w, k, "iz", 2)) {
                w[k++] = 'e';
            } else if (k >= 2 && w[k - 1] == w[k - 2] && is_cons(w, k - 1) &&
                       w[k - 1] != 'l' && w[k - 1] != 's' && w[k - 1] != 'z') {
                k--; /* "running" -> "run" */
            } else if (measure(w, k) == 1 && cvc(w, k)) {
                w[k++] = 'e';
            }
        }
    }
    /* 1c: y -> i, so "city" and "cities" meet. */
    if (w[k - 1] == 'y' && has_vowel(w, k - 1)) w[k - 1] = 'i';
    /* 2-3, then "-ly" ("quickly" -> "quickli" -> "quick"). */
    if (!apply(w, &k, step23, sizeof step23 / sizeof step23[0]) &&
        ends(w, k, "li", 2) && k - 2 >= 4 && measure(w, k - 2) > 0)
        k -= 2;
    apply(w, &k, step4, sizeof step4 / sizeof step4[0]);
    /* 5: final e and ll. */
    if (w[k - 1] == 'e') {
        int m = measure(w, k - 1);
        if (m > 1 || (m == 1 && !cvc(w, k - 1))) k--;
    }
    if (k > 2 && w[k - 1] == 'l' && w[k - 2] == 'l' && measure(w, k) > 1) k--;
    return k;
}

/* --- stop words ---------------------------------------------------------- */

/* The stemmed forms of ~190 English function words, question words and
** contractions (apostrophes dropped), sorted for binary search. Generated by
** stemming the raw list kept in tests/test_token.c, which checks that every
** raw word is still found here after a change to the stemmer. */
typedef struct stop_word {
    const char *s;
    size_t n;
} stop_word;

#define S(w) {w, sizeof w - 1}
static const stop_word stops[] = {
    S("a"), S("about"), S("abov"), S("actual"), S("after"), S("again"),
    S("against"), S("ago"), S("all"), S("also"), S("am"), S("an"), S("and"),
    S("any"), S("anyth"), S("are"), S("arent"), S("as"), S("at"), S("be"),
    S("becaus"), S("been"), S("befor"), S("below"), S("between"), S("both"),
    S("but"), S("by"), S("can"), S("cannot"), S("cant"), S("could"),
    S("couldnt"), S("did"), S("didnt"), S("do"), S("doe"), S("doesnt"),
    S("dont"), S("down"), S("dure"), S("each"), S("earlier"), S("etc"),
    S("ever"), S("few"), S("for"), S("from"), S("further"), S("get"), S("got"),
    S("had"), S("hadnt"), S("has"), S("hasnt"), S("have"), S("havent"),
    S("he"), S("hello"), S("her"), S("here"), S("herself"), S("hey"), S("hi"),
    S("him"), S("himself"), S("his"), S("how"), S("i"), S("if"), S("im"),
    S("in"), S("into"), S("is"), S("isnt"), S("it"), S("its"), S("itself"),
    S("ive"), S("just"), S("kind"), S("let"), S("may"), S("me"), S("mention"),
    S("might"), S("more"), S("most"), S("much"), S("must"), S("my"),
    S("myself"), S("no"), S("nor"), S("not"), S("now"), S("of"), S("off"),
    S("ok"), S("okai"), S("on"), S("onc"), S("onli"), S("or"), S("other"),
    S("our"), S("ourselv"), S("out"), S("over"), S("own"), S("per"),
    S("pleas"), S("previous"), S("realli"), S("recal"), S("rememb"),
    S("remind"), S("said"), S("same"), S("say"), S("shall"), S("she"),
    S("should"), S("shouldnt"), S("so"), S("some"), S("someth"), S("sort"),
    S("such"), S("sure"), S("tell"), S("than"), S("thank"), S("that"),
    S("the"), S("thei"), S("their"), S("them"), S("themselv"), S("then"),
    S("there"), S("these"), S("theyr"), S("thi"), S("thing"), S("those"),
    S("through"), S("thu"), S("to"), S("told"), S("too"), S("under"),
    S("until"), S("up"), S("upon"), S("veri"), S("via"), S("was"), S("wasnt"),
    S("we"), S("were"), S("werent"), S("what"), S("when"), S("where"),
    S("which"), S("while"), S("who"), S("whom"), S("whose"), S("why"),
    S("will"), S("with"), S("within"), S("without"), S("wont"), S("would"),
    S("wouldnt"), S("yeah"), S("yes"), S("yet"), S("you"), S("your"),
    S("yourself"), S("yourselv"), S("youv"),
};
#undef S

static int cmp_term(const char *a, size_t al, const stop_word *b) {
    if (a[0] != b->s[0]) return (unsigned char)a[0] - (unsigned char)b->s[0];
    int c = memcmp(a, b->s, al < b->n ? al : b->n);
    return c ? c : (al > b->n) - (al < b->n);
}

int mn_token_is_stop(const char *term, size_t len) {
    /* No stop word is longer than 8 bytes or starts outside a..y. */
    if (len == 0 || len > 8 || term[0] < 'a' || term[0] > 'y') return 0;
    size_t lo = 0, hi = sizeof stops / sizeof stops[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp_term(term, len, &stops[mid]);
        if (c == 0) return 1;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return 0;
}

uint64_t mn_token_hash(const char *s, size_t len) {
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* --- the tokenizer ------------------------------------------------------- */

static int is_alnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Bytes of a separator that is not ASCII: U+00A0 (no-break space) and the
** General Punctuation block U+2000-U+206F (dashes, curly quotes, ellipsis).
** 0 when p starts a letter. *apos is set for U+2018/U+2019 (curly quotes). */
static size_t utf8_sep(const unsigned char *p, size_t left, int *apos) {
    *apos = 0;
    if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0) return 2;
    if (left >= 3 && p[0] == 0xE2 && (p[1] == 0x80 || p[1] == 0x81)) {
        *apos = p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99);
        return 3;
    }
    return 0;
}

/* Length of the apostrophe at p (ASCII or curly), 0 if none. */
static size_t apostrophe(const unsigned char *p, size_t left) {
    int apos;
    if (*p == '\'') return 1;
    return (*p >= 0x80 && utf8_sep(p, left, &apos) && apos) ? 3 : 0;
}

static int word_byte(const unsigned char *p, size_t left) {
    int apos;
    return is_alnum(*p) || (*p >= 0x80 && !utf8_sep(p, left, &apos));
}

uint32_t mn_token_each(const char *text, size_t len, mn_token_fn fn, void *ctx) {
    const unsigned char *s = (const unsigned char *)text;
    char buf[MN_TOKEN_MAX];
    size_t i = 0;
    uint32_t pos = 0;
    int sentence = 1;
    while (i < len) {
        if (!word_byte(s + i, len - i)) {
            if (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == '\n') sentence = 1;
            int apos;
            size_t n = s[i] >= 0x80 ? utf8_sep(s + i, len - i, &apos) : 0;
            i += n ? n : 1;
            continue;
        }
        int caps = s[i] >= 'A' && s[i] <= 'Z';
        int digits = 1, letters = 1, full = 0;
        size_t n = 0;
        while (i < len) {
            unsigned char c = s[i];
            if (is_alnum(c)) {
                if (n < MN_TOKEN_MAX && !full) {
                    buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
                    if (c > '9') digits = 0; else letters = 0;
                } else full = 1;
                i++;
            } else if (c >= 0x80 && word_byte(s + i, len - i)) {
                /* Keep whole UTF-8 sequences only: a lead byte goes in only
                ** if its continuation bytes fit too. */
                size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                if (c >= 0xC0 && n + need > MN_TOKEN_MAX) full = 1;
                if (!full && n < MN_TOKEN_MAX) buf[n++] = (char)c;
                else full = 1;
                digits = letters = 0;
                i++;
            } else {
                size_t a = apostrophe(s + i, len - i);
                if (!a || i + a >= len || !is_alnum(s[i + a])) break;
                /* "user's" -> "user" (possessive), "don't" -> "dont". */
                if ((s[i + a] | 32) == 's' &&
                    (i + a + 1 >= len || !word_byte(s + i + a + 1, len - i - a - 1))) {
                    i += a + 1;
                    break;
                }
                i += a;
            }
        }
        if (n == 0) continue; /* a word of a lone stray byte that did not fit */
        if (letters && !full && n > 3) n = (size_t)stem(buf, (int)n);
        int flags = 0;
        if (digits) flags |= MN_TOK_NUMBER;
        if (caps) flags |= MN_TOK_CAPITALIZED;
        if (sentence) flags |= MN_TOK_SENTENCE_START;
        if (!digits && mn_token_is_stop(buf, n)) flags |= MN_TOK_STOP;
        sentence = 0;
        if (fn) fn(ctx, buf, n, pos, flags);
        pos++;
    }
    return pos;
}
