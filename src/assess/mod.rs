//! Assessment: turn practice findings into levels of the standard's sub-items,
//! following the interpretation table.
