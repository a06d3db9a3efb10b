// The entry of `npx remotion studio` and `npx remotion render`: the videos of registered.ts, which
// leaves out a video whose last check failed, so its code never breaks the others' bundle.
import {registerRoot} from 'remotion';
import {registered} from './registered';
import {makeRoot} from './Root';

registerRoot(makeRoot(registered));
