#!/usr/bin/env bash
# Writes the seed corpus of the requests fuzzer: one file per request below,
# a selector byte (which message, see requests_fuzzer.cc) followed by the
# message's wire encoding made by protoc from its text form.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/requests
mkdir -p "$out"
seed() {  # seed SELECTOR MESSAGE LABEL TEXTPROTO
  { printf "\\x$(printf %02x "$1")"
    printf '%s\n' "$4" | protoc -I ../../proto \
      --encode="atlas.v1.$2" atlas/v1/atlas_service.proto
  } > "$out/$3"
}
seed 0 GetEntityRequest get 'name: "agreements/gatt" revision: 7'
seed 0 GetEntityRequest get_bad_name 'name: "Agreements/GATT"'
seed 1 ListEntitiesRequest list 'kind: "agreement" topic: "e-commerce" link: "bodies/general-council" page_size: 50 page_token: "abc"'
seed 1 ListEntitiesRequest list_bad_kind 'kind: "treaty" page_size: -1'
seed 2 CreateEntityRequest create 'entity { name: "agreements/ita" title: "ITA" topics: "e-commerce" links { rel: "administered_by" target: "bodies/ita-committee" } source_urls: "https://www.wto.org/" agreement { acronym: "ITA" status: INSTRUMENT_STATUS_IN_FORCE concluded: "1996-12-13" principles: "zero tariffs" } }'
seed 2 CreateEntityRequest create_fact 'entity { name: "facts/ita-members" fact { subject: "agreements/ita" metric: "participants" value: 82 unit: "members" as_of: "2024-03" } }'
seed 3 UpdateEntityRequest update_masked 'entity { name: "agreements/ita" title: "x" etag: "12" agreement { summary: "s" } } update_mask { paths: "title" paths: "agreement.summary" paths: "topics" } allow_missing: true'
seed 3 UpdateEntityRequest update_star 'entity { name: "members/eu" member { code: "EU" participation: "bodies/tbt-committee" } } update_mask { paths: "*" }'
seed 3 UpdateEntityRequest update_bad_mask 'entity { name: "members/eu" } update_mask { paths: "etag" paths: "member.nope" }'
seed 4 DeleteEntityRequest delete 'name: "documents/g-tbt-n-eu-1" etag: "3" allow_missing: true'
seed 5 ApplyEntitiesRequest apply 'entities { name: "baskets/infrastructure" basket { position: 1 } } entities { name: "topics/cybersecurity" topic { basket: "baskets/infrastructure" aliases: "cyber" } } entities { name: "events/mc13" event { start: "2024-02-26" end: "2024-03-02" location: "Abu Dhabi" } } validate_only: true'
seed 5 ApplyEntitiesRequest apply_duplicate 'entities { name: "members/jp" } entities { name: "members/jp" }'
seed 6 ListEntityHistoryRequest history 'name: "organizations/wto" page_size: 1000 page_token: "t"'
seed 7 WatchRequest watch 'filter { topics: "cybersecurity" kinds: "document" kinds: "tbt_notification" name_prefixes: "documents/" linked: "agreements/tbt-agreement" change_types: CHANGE_TYPE_CREATED } start_revision: 5 include_before: true'
seed 7 WatchRequest watch_bad 'filter { kinds: "nope" topics: "Not A Slug" change_types: 99 }'
