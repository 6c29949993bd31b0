//! `rust_decimal`: exact both ways. A FHIR decimal with more than 28 decimal places (after
//! dropping trailing zeros that do not fit) or more than 96 bits of digits is refused, not rounded.

use ::rust_decimal::Decimal as RustDecimal;

use super::ConversionError;
use crate::Decimal;

const TO: &str = "rust_decimal::Decimal";
const FROM: &str = "FHIR decimal";

impl TryFrom<&Decimal> for RustDecimal {
    type Error = ConversionError;
    fn try_from(d: &Decimal) -> Result<Self, ConversionError> {
        let text = d.as_str();
        let error = |reason: &'static str| ConversionError::new(FROM, TO, text, reason);
        let (mantissa, exponent) = match text.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => {
                let exponent: i64 = exponent.parse().map_err(|_| error("its exponent is out of range"))?;
                (mantissa, exponent)
            }
            None => (text, 0),
        };
        let negative = mantissa.starts_with('-');
        let unsigned = mantissa.trim_start_matches('-');
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let too_many_digits = || error("it has more digits than 96 bits hold");
        let mut digits: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            digits =
                digits.checked_mul(10).and_then(|n| n.checked_add(i128::from(b - b'0'))).ok_or_else(too_many_digits)?;
        }
        let mut scale =
            (fraction.len() as i64).checked_sub(exponent).ok_or_else(|| error("its exponent is out of range"))?;
        if digits == 0 {
            scale = scale.clamp(0, 28);
        }
        if scale < 0 {
            let factor = u32::try_from(-scale).ok().and_then(|e| 10i128.checked_pow(e)).ok_or_else(too_many_digits)?;
            digits = digits.checked_mul(factor).ok_or_else(too_many_digits)?;
            scale = 0;
        }
        // Trailing zeros beyond rust_decimal's 28 places carry no value: drop them.
        while scale > 28 && digits % 10 == 0 {
            digits /= 10;
            scale -= 1;
        }
        if scale > 28 {
            return Err(error("it has more than 28 decimal places"));
        }
        let signed = if negative { -digits } else { digits };
        let mut value = RustDecimal::try_from_i128_with_scale(signed, scale as u32).map_err(|_| too_many_digits())?;
        if negative && digits == 0 {
            value.set_sign_negative(true);
        }
        Ok(value)
    }
}

/// Exact: rust_decimal writes its digits and scale (`1.50`).
impl From<RustDecimal> for Decimal {
    fn from(d: RustDecimal) -> Self {
        Decimal::from_number_text(d.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(text: &str) -> Result<String, ConversionError> {
        let d: Decimal = text.parse().unwrap();
        RustDecimal::try_from(&d).map(|r| r.to_string())
    }

    #[test]
    fn exact_or_refused() {
        assert_eq!(convert("1.50").unwrap(), "1.50");
        assert_eq!(convert("-0.001").unwrap(), "-0.001");
        assert_eq!(convert("1E-22").unwrap(), format!("0.{}1", "0".repeat(21)));
        assert_eq!(convert("1.5e3").unwrap(), "1500");
        assert_eq!(convert("12E+2").unwrap(), "1200");
        assert_eq!(convert("0e-40").unwrap(), "0.0000000000000000000000000000");
        assert_eq!(convert("1.000000000000000000000000000000000").unwrap(), "1.0000000000000000000000000000");
        assert_eq!(convert("79228162514264337593543950335").unwrap(), "79228162514264337593543950335");
        assert!(convert("79228162514264337593543950336").unwrap_err().reason().contains("96 bits"));
        assert!(convert("0.00000000000000000000000000001").unwrap_err().reason().contains("28 decimal places"));
        assert!(convert("1e30").is_err());
        assert!(convert("1e99999999999999999999").is_err());
        assert!(convert("123456789012345678901234567890123456789012345").is_err());
        for text in ["1.50", "-12.345", "0", "100", "0.0000000000000000000000000001"] {
            let d: Decimal = text.parse().unwrap();
            assert_eq!(Decimal::from(RustDecimal::try_from(&d).unwrap()), d, "{text}");
        }
    }
}
