/**
 * The active ISO 4217 currency codes and their minor units (the exponent: 2 for EUR, 0 for JPY,
 * 3 for BHD), held here rather than read from the runtime's ICU data: ICU follows CLDR, whose
 * digits are a display convention (HUF, IDR, COP, PKR, IQD… show 0) and change with the Node.js
 * build, while amounts must mean the same on every host.
 *
 * Source: ISO 4217 List One ("Current currency & funds"), maintained by SIX Financial
 * Information for ISO, as published 2024-06-25 (`<ISO_4217 Pblshd="2024-06-25">`), read from
 * the copy the npm package `currency-codes` 2.2.0 ships (github.com/freeall/currency-codes,
 * `iso-4217-list-one.xml`, 2024-10-23). Plus XCG (Caribbean guilder, exponent 2, Curaçao and
 * Sint Maarten from 2025-03-31, ISO 4217 amendment 176; as in OpenJDK's
 * `CurrencyData.properties`, dataVersion 176). Left out: the codes whose minor unit is "N.A."
 * (XAU, XAG, XPD, XPT, XBA–XBD, XDR, XSU, XUA, XTS, XXX), which no amount can be written in.
 *
 * To update: take the current list_one.xml, one code per `<Ccy>` with its `<CcyMnrUnts>`, and
 * keep the source line above true.
 */
const CODES_BY_EXPONENT: Record<number, string> = {
  0: 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF',
  2:
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND ' +
    'BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU ' +
    'CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
    'GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS ' +
    'KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP ' +
    'MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN ' +
    'PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE ' +
    'SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH ' +
    'USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG',
  3: 'BHD IQD JOD KWD LYD OMR TND',
  4: 'CLF UYW',
};

/** ISO 4217 minor units by currency code, for the active codes that have one. */
export const ISO_4217_MINOR_UNITS: ReadonlyMap<string, number> = new Map(
  Object.entries(CODES_BY_EXPONENT).flatMap(([exponent, codes]) =>
    codes.split(' ').map((code) => [code, Number(exponent)] as const),
  ),
);
