// Written by vidgen: every video but those whose last check failed (until they pass). Do not edit.
export const registered = require.context('./videos', true, /^\.\/[a-z0-9][a-z0-9-]*\/index\.tsx$/, 'lazy');
