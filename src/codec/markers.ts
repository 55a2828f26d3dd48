/**
 * The codestream marker walk moved to src/j2k (one table and one reader for the
 * project); these names stay importable from here for existing callers.
 */
export { COM, SOC, SOT, parseMainHeader, removeComments, type Segment, type MainHeader } from '../j2k/index.js'
