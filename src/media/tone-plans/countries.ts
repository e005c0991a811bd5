/**
 * Built-in call-progress tones, in indications.conf syntax (see ../tone-plan.ts). Frequencies and cadences follow
 * Asterisk's indications.conf, which follows ITU-T E.180 Supplement 2. Where these differ from a national
 * operator's current practice, override the tone in the config.
 *
 * Stutter dial tone (message waiting) is 10 bursts of 100 ms on / 100 ms off before steady dial tone where the
 * country uses that form (Bellcore GR-506 style); uk, it, nl, au use their own published forms.
 * The off-hook warning ("howler") is the North American receiver-off-hook tone (1400+2060+2450+2600 Hz, 0.1 s on
 * and off) for every country: indications.conf has no howler, and E.180 does not fix one per country.
 */
const stutter = (tone: string): string => `!${tone}/100,!0/100,`.repeat(10) + tone;
const HOWLER = '1400+2060+2450+2600/100,0/100';

export const TONE_PLAN_DATA = {
  us: {
    dial: '350+440',
    ringback: '440+480/2000,0/4000',
    busy: '480+620/500,0/500',
    congestion: '480+620/250,0/250',
    callWaiting: '440/300,0/9700',
    offHookWarning: HOWLER,
    stutterDial: stutter('350+440'),
  },
  uk: {
    dial: '350+440',
    ringback: '400+450/400,0/200,400+450/400,0/2000',
    busy: '400/375,0/375',
    congestion: '400/400,0/350,400/225,0/525',
    callWaiting: '400/100,0/4000',
    offHookWarning: HOWLER,
    stutterDial: '350+440/750,440/750',
  },
  de: {
    dial: '425',
    ringback: '425/1000,0/4000',
    busy: '425/480,0/480',
    congestion: '425/240,0/240',
    callWaiting: '425/200,0/200,425/200,0/5000',
    offHookWarning: HOWLER,
    stutterDial: stutter('425'),
  },
  fr: {
    dial: '440',
    ringback: '440/1500,0/3500',
    busy: '440/500,0/500',
    congestion: '440/250,0/250',
    callWaiting: '440/300,0/10000',
    offHookWarning: HOWLER,
    stutterDial: stutter('440'),
  },
  nl: {
    dial: '425',
    ringback: '425/1000,0/4000',
    busy: '425/500,0/500',
    congestion: '425/250,0/250',
    callWaiting: '425/500,0/9500',
    offHookWarning: HOWLER,
    stutterDial: '425/500,0/50',
  },
  it: {
    dial: '425/200,0/200,425/600,0/1000',
    ringback: '425/1000,0/4000',
    busy: '425/500,0/500',
    congestion: '425/200,0/200',
    callWaiting: '425/400,0/100,425/250,0/100,425/150,0/14000',
    offHookWarning: HOWLER,
    stutterDial: '470/400,425/400',
  },
  au: {
    dial: '413+438',
    ringback: '413+438/400,0/200,413+438/400,0/2000',
    busy: '425/375,0/375',
    congestion: '425/375,0/375,420/375,0/375',
    callWaiting: '425/200,0/200,425/200,0/4400',
    offHookWarning: HOWLER,
    stutterDial: '413+438/100,0/40',
  },
  jp: {
    dial: '400',
    ringback: '400*16/1000,0/2000',
    busy: '400/500,0/500',
    congestion: '400/500,0/500',
    callWaiting: '400*16/500,0/8000',
    offHookWarning: HOWLER,
    stutterDial: stutter('400'),
  },
} as const;
