// The render's optional arguments, as Remotion's CLI means them (--props, --scale, --frames, --crf).
// vidgen checks them first; these checks keep a hostile or mistaken request from reaching Remotion,
// whose own errors would read as the video's fault. null or absent: Remotion's default.
const usage = (message) => Object.assign(new Error(message), {kind: 'usage'});
const MAX_PROPS_BYTES = 65536;
const CRF_RANGES = {h264: [1, 51], vp9: [0, 63]}; // Remotion's getValidCrfRanges for the codecs vidgen renders
const isInt = (value) => Number.isInteger(value) && value >= 0;

// The options for a video of `frames` frames, with Remotion's defaults filled in, and how many
// frames the render makes (`count`); an error of kind 'usage' for any that is out of range.
/** @param {{inputProps?: any, scale?: any, frameRange?: any, crf?: any, chunks?: any, codec: string}} given @param {number} frames */
export const renderOptions = ({inputProps, scale, frameRange, crf, chunks, codec}, frames) => {
  if (inputProps != null) {
    if (typeof inputProps !== 'object' || Array.isArray(inputProps) || Object.getPrototypeOf(inputProps) !== Object.prototype) {
      throw usage('inputProps must be a JSON object');
    }
    if (Buffer.byteLength(JSON.stringify(inputProps)) > MAX_PROPS_BYTES) throw usage(`inputProps is over ${MAX_PROPS_BYTES} bytes`);
  }
  if (scale != null && !(typeof scale === 'number' && Number.isFinite(scale) && scale > 0 && scale <= 16)) {
    throw usage('scale must be a number above 0 and at most 16');
  }
  if (frameRange != null) {
    const [first, lastFrame] = Array.isArray(frameRange) ? frameRange : [frameRange, frameRange];
    const pair = !Array.isArray(frameRange) || frameRange.length === 2;
    if (!pair || !isInt(first) || !isInt(lastFrame) || first > lastFrame || lastFrame >= frames) {
      throw usage(`frameRange must be a frame or [first, last] within 0 to ${frames - 1}`);
    }
  }
  if (crf != null) {
    const range = CRF_RANGES[codec];
    if (!range) throw usage(`crf applies to ${Object.keys(CRF_RANGES).join(' and ')}, not ${codec}`);
    if (!Number.isInteger(crf) || crf < range[0] || crf > range[1]) throw usage(`crf for ${codec} must be ${range[0]} to ${range[1]}`);
  }
  // Chunks are joined as h264 (combineChunks joins h264-ts chunks without re-encoding) and are of the
  // whole video: a frame range is a part already.
  if (chunks != null && chunks !== 1) {
    if (!Number.isInteger(chunks) || chunks < 1 || chunks > frames) throw usage(`chunks must be a whole number from 1 to ${frames}`);
    if (codec !== 'h264') throw usage(`chunks are joined for h264 renders only, not ${codec}`);
    if (frameRange != null) throw usage('chunks render the whole video, not a frameRange');
  }
  const count = frameRange == null ? frames : Array.isArray(frameRange) ? frameRange[1] - frameRange[0] + 1 : 1;
  return {inputProps: inputProps ?? {}, scale: scale ?? 1, frameRange: frameRange ?? null, crf: crf ?? null, chunks: chunks ?? 1, count};
};
