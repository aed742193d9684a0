#include "test.h"
#include "strbuf.h"

void test_strbuf__appends_and_escapes_json(void) {
    mn_sb sb;
    mn_sb_init(&sb);
    CHECK_STR(mn_sb_str(&sb), "");
    mn_sb_adds(&sb, "{");
    mn_sb_json_str(&sb, "a\"b\\c\n\x01z", 8);
    mn_sb_printf(&sb, ":%d,", 42);
    mn_sb_json_num(&sb, 0.5);
    mn_sb_adds(&sb, "}");
    char *s = mn_sb_take(&sb);
    CHECK_STR(s, "{\"a\\\"b\\\\c\\n\\u0001z\":42,0.5}");
    mnemo_free(s);
    CHECK_INT(sb.len, 0);
}
