/*
** test_list.h: every C test, in one list (one line per test). Names read as
** sentences: test_<area>__<what_it_should_do>.
*/
#define MNEMO_TESTS(X) \
    /* strbuf */ \
    X(test_strbuf__appends_and_escapes_json) \
    /* datetime (core/datetime.c) */ \
    X(test_time__parses_date_and_minutes) \
    X(test_time__shifts_months_across_years) \
    X(test_time__parses_iso_with_offset) \
    X(test_time__parses_space_lowercase_z_and_fraction) \
    X(test_time__parses_longmemeval_format) \
    X(test_time__parses_epoch_millis) \
    X(test_time__rejects_feb_30) \
    X(test_time__rejects_out_of_range_fields) \
    X(test_time__rejects_malformed_and_trailing_garbage) \
    X(test_time__parses_years_0000_to_9999) \
    X(test_time__formats_whole_seconds_and_millis) \
    X(test_time__formats_before_epoch) \
    X(test_time__round_trips_format_and_parse) \
    X(test_time__finds_today_and_yesterday) \
    X(test_time__finds_days_ago) \
    X(test_time__finds_weeks_ago_as_monday_weeks) \
    X(test_time__finds_months_and_years_ago) \
    X(test_time__finds_last_and_this_week) \
    X(test_time__finds_last_and_this_month_and_year) \
    X(test_time__finds_past_n_days) \
    X(test_time__finds_last_weekend) \
    X(test_time__finds_in_may) \
    X(test_time__finds_last_may_before_now) \
    X(test_time__finds_month_with_day_or_year) \
    X(test_time__reads_month_abbreviations) \
    X(test_time__finds_iso_dates_in_query) \
    X(test_time__finds_year_after_in) \
    X(test_time__finds_weekdays) \
    X(test_time__ignores_modal_may) \
    X(test_time__ignores_march_verb_and_second) \
    X(test_time__finds_recently) \
    X(test_time__extends_since_to_today) \
    X(test_time__returns_zero_without_time) \
    X(test_time__reads_only_len_bytes) \
    X(test_time__survives_long_and_odd_queries) \
    /* token (core/token.c) */ \
    X(test_token__splits_words_and_lowercases) \
    X(test_token__stems_plural_and_ing) \
    X(test_token__leaves_short_words_and_numbers_unstemmed) \
    X(test_token__drops_apostrophes_and_possessives) \
    X(test_token__flags_stop_capitals_and_sentence_starts) \
    X(test_token__finds_every_stop_word) \
    X(test_token__keeps_utf8_words_whole) \
    X(test_token__cuts_long_words_on_a_character_boundary) \
    X(test_token__hashes_with_fnv1a) \
    /* embed (core/embed.c) */ \
    X(test_embed__is_deterministic) \
    X(test_embed__is_unit_length) \
    X(test_embed__similar_texts_score_higher) \
    X(test_embed__empty_text_is_zero) \
    X(test_embed__dot_i8_matches_scalar) \
    X(test_embed__quantize_round_trips_within_tolerance) \
    X(test_embed__dot_i8_handles_extremes) \
    X(test_embed__fed_word_by_word_gives_the_same_vector) \
    /* index (core/index.c) */ \
    X(test_index__scores_bm25_like_the_formula) \
    X(test_index__ranks_rare_word_first) \
    X(test_index__returns_nothing_for_stop_word_queries) \
    X(test_index__breaks_ties_by_newer_rowid) \
    X(test_index__weights_keyword_overlap_by_idf) \
    X(test_index__counts_given_terms) \
    X(test_index__removes_documents) \
    X(test_index__replaces_on_reput) \
    X(test_index__vector_finds_nearest) \
    X(test_index__respects_allow_list) \
    X(test_index__compacts_tombstones) \
    X(test_index__survives_allocation_failure) \
    X(test_index__put_embedded_stores_the_builtin_vector) \
    X(test_index__reserve_makes_room_once) \
    /* filter (core/filter.c) */ \
    X(test_filter__matches_metadata_equality) \
    X(test_filter__rejects_unknown_operator) \
    X(test_filter__combines_and_or_not) \
    X(test_filter__matches_topics_membership) \
    X(test_filter__matches_tags_membership) \
    X(test_filter__compares_times_given_as_iso) \
    X(test_filter__compares_times_given_as_epoch_ms) \
    X(test_filter__treats_star_literally) \
    X(test_filter__escapes_quotes_in_keys) \
    X(test_filter__handles_in_and_nin) \
    X(test_filter__icontains_ignores_case_and_percent) \
    X(test_filter__ne_includes_missing_keys) \
    X(test_filter__rejects_too_deep_nesting) \
    X(test_filter__compares_numbers_by_json_value) \
    X(test_filter__addresses_metadata_with_reserved_names) \
    X(test_filter__tests_key_existence) \
    X(test_filter__filters_on_text_columns) \
    X(test_filter__matches_confidence) \
    X(test_filter__rejects_malformed_filters) \
    X(test_filter__limits_bound_values) \
    X(test_filter__binds_after_other_parameters) \
    X(test_filter__reports_out_of_memory_without_leaking) \
    /* api (the public functions of mnemo.h) */ \
    X(test_api__version_and_error_names_are_stable) \
    X(test_api__open_creates_a_bank_and_reopens_it) \
    X(test_api__warm_builds_the_index_in_steps) \
    X(test_api__retain_echo_false_returns_ids_only) \
    X(test_api__open_rejects_garbage_and_foreign_files) \
    X(test_api__open_rejects_bad_options) \
    X(test_api__retain_and_recall_find_the_memory) \
    X(test_api__retain_with_infer_asks_the_llm_and_falls_back_without_one) \
    X(test_api__retain_rejects_bad_input_and_writes_nothing) \
    X(test_api__messages_become_one_memory_each_with_role_as_source) \
    X(test_api__document_upsert_replaces_the_previous_version) \
    X(test_api__get_update_history_and_delete) \
    X(test_api__list_paginates_with_a_cursor_and_filters) \
    X(test_api__recall_honours_filters_limits_and_token_budgets) \
    X(test_api__recall_uses_a_date_the_query_names) \
    X(test_api__delete_all_forgets_everything) \
    X(test_api__export_then_import_round_trips_exactly) \
    X(test_api__import_of_a_bad_line_imports_nothing) \
    X(test_api__host_embedder_goes_through_the_job) \
    X(test_api__host_failure_keeps_the_text_and_reindex_fills_vectors) \
    X(test_api__readonly_bank_refuses_writes) \
    X(test_api__two_handles_see_each_others_writes) \
    X(test_api__host_supplies_clock_and_randomness) \
    X(test_api__calls_on_a_failed_handle_are_refused) \
    /* llmjson (core/llmjson.c) */ \
    X(test_llmjson__reads_every_file_of_the_broken_output_corpus) \
    X(test_llmjson__mends_fences_prose_commas_and_literals) \
    X(test_llmjson__keeps_only_complete_elements_of_a_truncated_answer) \
    X(test_llmjson__reports_the_byte_offset_of_what_it_cannot_read) \
    X(test_llmjson__resolves_aliases_and_nothing_else) \
    X(test_llmjson__turns_bad_decisions_into_safe_ones) \
    X(test_llmjson__reads_chat_completion_envelopes) \
    /* heuristic (core/heuristic.c) */ \
    X(test_heuristic__splits_preferences_and_facts_in_the_classic_example) \
    X(test_heuristic__rewrites_first_person_statements) \
    X(test_heuristic__skips_questions_hedges_and_requests) \
    X(test_heuristic__resolves_dates_against_the_message_time) \
    X(test_heuristic__suggests_topics_for_candidate_search) \
    X(test_heuristic__stops_at_the_fact_limit_and_keeps_repeats_once) \
    /* extract (core/extract.c, apply.c, pending.c, budget.c, prompt.c) */ \
    X(test_extract__offline_example_recalls_the_python_memory_first) \
    X(test_extract__one_chat_request_fits_1500_prompt_tokens) \
    X(test_extract__a_changed_preference_supersedes_and_keeps_history) \
    X(test_extract__a_repeated_fact_is_stored_once) \
    X(test_extract__a_forget_request_deletes_the_memory) \
    X(test_extract__a_relative_date_is_resolved_from_the_message_time) \
    X(test_extract__document_upsert_replaces_extracted_memories) \
    X(test_extract__an_update_rewrites_the_memory_with_history) \
    X(test_extract__process_pending_replaces_the_heuristic_facts) \
    X(test_extract__an_input_processed_elsewhere_meanwhile_is_not_written_twice) \
    X(test_extract__a_memory_the_model_changed_survives_reprocessing) \
    X(test_extract__garbage_twice_falls_back_and_loses_nothing) \
    X(test_extract__foreign_bytes_in_messages_and_answers_stay_valid_json) \
    X(test_extract__garbage_once_then_a_good_answer) \
    X(test_extract__a_refused_json_schema_is_retried_without_it) \
    X(test_extract__a_truncated_answer_keeps_its_complete_facts) \
    X(test_extract__hostile_decisions_touch_only_a_bounded_few) \
    X(test_extract__budgets_stop_requests_before_they_are_made) \
    X(test_extract__a_host_embedder_gets_one_batched_request) \
    X(test_extract__a_long_input_is_cut_to_budget_and_kept_as_given) \
    X(test_extract__an_abandoned_job_writes_nothing) \
    X(test_extract__usage_is_estimated_when_the_response_has_none) \
    X(test_extract__an_old_bank_migrates_and_keeps_its_memories) \
    X(test_extract__stats_count_entities_relations_and_pending) \
    X(test_extract__delete_all_forgets_the_queue_too) \
    X(test_extract__a_message_cannot_pose_as_a_known_memory) \
    X(test_extract__survives_every_failed_allocation) \
    /* fault injection (test_fault.c) */ \
    X(test_fault__retain_survives_every_failed_allocation) \
    X(test_fault__recall_and_update_survive_failed_allocations) \
    X(test_fault__full_storage_mid_write_loses_nothing) \
    X(test_fault__export_writer_can_stop_the_export) \
    X(test_fault__job_errmsg_says_why_a_job_failed) \
    X(test_fault__fts5_table_is_optional_and_kept_in_step) \
    /* page banks (core/pages.c) */ \
    X(test_pages__saved_pages_reopen_as_the_same_bank) \
    X(test_pages__a_small_write_dirties_few_pages) \
    X(test_pages__an_unsaved_call_is_gone_after_reopening) \
    X(test_pages__a_host_fills_the_buffer_itself) \
    X(test_pages__an_open_image_is_busy) \
    X(test_pages__checks_arguments_and_ignores_file_banks) \
    X(test_pages__garbage_pages_open_as_corrupt) \
    X(test_pages__delete_all_shrinks_the_bank) \
    X(test_pages__survives_every_failed_allocation) \
    /* end */
