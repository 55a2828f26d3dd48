/**
 * JPEG 2000 Part 1 / Part 2 / Part 15 (HTJ2K) marker codes: the one table of the
 * project. Every marker is 0xFF followed by the code below; all of them except
 * SOC, SOD and EOC start a segment whose 2-byte length (counting itself) follows.
 */
export const SOC = 0xff4f
export const CAP = 0xff50
export const SIZ = 0xff51
export const COD = 0xff52
export const COC = 0xff53
export const TLM = 0xff55
export const PLM = 0xff57
export const PLT = 0xff58
export const QCD = 0xff5c
export const QCC = 0xff5d
export const RGN = 0xff5e
export const POC = 0xff5f
export const PPM = 0xff60
export const PPT = 0xff61
export const CRG = 0xff63
export const COM = 0xff64
export const DFS = 0xff72
export const NLT = 0xff76
export const ATK = 0xff79
export const SOT = 0xff90
export const SOD = 0xff93
export const EOC = 0xffd9

const NAMES: Record<number, string> = {
  [SOC]: 'SOC', [CAP]: 'CAP', [SIZ]: 'SIZ', [COD]: 'COD', [COC]: 'COC', [TLM]: 'TLM', [PLM]: 'PLM', [PLT]: 'PLT',
  [QCD]: 'QCD', [QCC]: 'QCC', [RGN]: 'RGN', [POC]: 'POC', [PPM]: 'PPM', [PPT]: 'PPT', [CRG]: 'CRG', [COM]: 'COM',
  [DFS]: 'DFS', [NLT]: 'NLT', [ATK]: 'ATK', [SOT]: 'SOT', [SOD]: 'SOD', [EOC]: 'EOC'
}

/** Progression orders as coded in COD's SGcod byte. */
export const PROGRESSIONS = ['LRCP', 'RLCP', 'RPCL', 'PCRL', 'CPRL'] as const

/** A readable name for a marker code, for error messages: 'COD', or '0xFF30' for one not in the table. */
export function markerName (code: number): string {
  return NAMES[code] ?? `0x${code.toString(16).toUpperCase().padStart(4, '0')}`
}

/** Whether a 16-bit word has a marker's form (0xFFxx); what follows it is the caller's rule. */
export function isMarker (word: number): boolean {
  return (word & 0xff00) === 0xff00
}
