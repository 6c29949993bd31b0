#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fhirstorm::fuzzing::any_resource::<fhirstorm::r4b::AnyResource>(data));
