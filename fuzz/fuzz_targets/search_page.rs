#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fhirstorm::fuzzing::search_page(data));
